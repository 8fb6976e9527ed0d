import createDebug from 'debug';
import {
	createMediaServer,
	type MediaLogger,
	type MediaServer,
	type MediaServerConfig
} from '../../../../media-server/src/index.ts';

const logger: MediaLogger = {
	debug: () => {},
	info: (message, meta) => console.info(`[media] ${message}`, meta ?? ''),
	warn: (message, meta) => console.warn(`[media] ${message}`, meta ?? ''),
	error: (message, meta) => console.error(`[media] ${message}`, meta ?? '')
};

async function create(config: MediaServerConfig): Promise<MediaServer> {
	// mediasoup 3.12 reports its workers' warnings and errors only through
	// `debug`; show them in the app's log unless DEBUG already chooses otherwise.
	if (!process.env.DEBUG) createDebug.enable('mediasoup:WARN*,mediasoup:ERROR*');
	if (config.listenIp === '0.0.0.0' && !config.announcedIp) {
		// Browsers cannot reach 0.0.0.0; loopback keeps local development working.
		console.warn('[media] MEDIA_ANNOUNCED_IP is not set; announcing 127.0.0.1 (local use only)');
		config = { ...config, announcedIp: '127.0.0.1' };
	}
	const server = await createMediaServer(config, { logger });
	process.once('exit', () => void server.close());
	return server;
}

/**
 * The process's media server (mediasoup workers) as a getter: started on
 * first call, and started again on the next call if starting failed (a
 * missing worker binary), so one bad start does not disable live classes.
 */
export function mediaServerProvider(config: MediaServerConfig): () => Promise<MediaServer> {
	let current: Promise<MediaServer> | undefined;
	return () => {
		if (!current) {
			const started = create(config);
			current = started;
			started.catch(() => {
				if (current === started) current = undefined;
			});
		}
		return current;
	};
}
