/** The logging surface media-server needs; console and most app loggers fit it. */
export interface MediaLogger {
	debug(message: string, meta?: Record<string, unknown>): void;
	info(message: string, meta?: Record<string, unknown>): void;
	warn(message: string, meta?: Record<string, unknown>): void;
	error(message: string, meta?: Record<string, unknown>): void;
}

export const silentLogger: MediaLogger = {
	debug() {},
	info() {},
	warn() {},
	error() {}
};
