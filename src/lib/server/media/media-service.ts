import createDebug from 'debug';
import {
	createMediaServer,
	mediaServerConfigFromEnv,
	type MediaLogger,
	type MediaServer
} from '../../../../media-server/src/index.ts';

const MEDIA_KEY = Symbol.for('taxpayer-classroom.media-server');
type WithMedia = { [MEDIA_KEY]?: Promise<MediaServer> };

const logger: MediaLogger = {
	debug: () => {},
	info: (message, meta) => console.info(`[media] ${message}`, meta ?? ''),
	warn: (message, meta) => console.warn(`[media] ${message}`, meta ?? ''),
	error: (message, meta) => console.error(`[media] ${message}`, meta ?? '')
};

async function create(): Promise<MediaServer> {
	// mediasoup 3.12 reports its workers' warnings and errors only through
	// `debug`; show them in the app's log unless DEBUG already chooses otherwise.
	if (!process.env.DEBUG) createDebug.enable('mediasoup:WARN*,mediasoup:ERROR*');
	const config = mediaServerConfigFromEnv();
	if (config.listenIp === '0.0.0.0' && !config.announcedIp) {
		// Browsers cannot reach 0.0.0.0; loopback keeps local development working.
		console.warn('[media] MEDIA_ANNOUNCED_IP is not set; announcing 127.0.0.1 (local use only)');
		config.announcedIp = '127.0.0.1';
	}
	const server = await createMediaServer(config, { logger });
	process.once('exit', () => void server.close());
	return server;
}

/**
 * The process's one media server (mediasoup workers), created on first use.
 * Kept on globalThis so the SvelteKit bundle and modules loaded beside it share it.
 */
export function getMediaServer(): Promise<MediaServer> {
	const holder = globalThis as WithMedia;
	if (!holder[MEDIA_KEY]) {
		const created = create();
		holder[MEDIA_KEY] = created;
		// A failed start (missing worker binary) is retried on the next use.
		created.catch(() => {
			if (holder[MEDIA_KEY] === created) delete holder[MEDIA_KEY];
		});
	}
	return holder[MEDIA_KEY];
}
