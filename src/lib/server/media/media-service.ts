import path from 'node:path';
import createDebug from 'debug';
import {
	createMediaServer,
	type MediaLogger,
	type MediaServerConfig,
	type MediaService
} from '../../../../media-server/src/index.ts';
import type { ServerConfig } from '../env.ts';
import { RemoteMediaServer } from './remote-media.ts';

const logger: MediaLogger = {
	debug: () => {},
	info: (message, meta) => console.info(`[media] ${message}`, meta ?? ''),
	warn: (message, meta) => console.warn(`[media] ${message}`, meta ?? ''),
	error: (message, meta) => console.error(`[media] ${message}`, meta ?? '')
};

async function createLocal(
	config: MediaServerConfig,
	recordingsDir: string
): Promise<MediaService> {
	// mediasoup 3.12 reports its workers' warnings and errors only through
	// `debug`; show them in the app's log unless DEBUG already chooses otherwise.
	if (!process.env.DEBUG) createDebug.enable('mediasoup:WARN*,mediasoup:ERROR*');
	if (config.listenIp === '0.0.0.0' && !config.announcedIp) {
		// Browsers cannot reach 0.0.0.0; loopback keeps local development working.
		console.warn('[media] MEDIA_ANNOUNCED_IP is not set; announcing 127.0.0.1 (local use only)');
		config = { ...config, announcedIp: '127.0.0.1' };
	}
	const server = await createMediaServer(config, { logger, recordingsDir });
	process.once('exit', () => void server.close());
	return server;
}

async function connectRemote(url: string, secret: string): Promise<MediaService> {
	const server = await RemoteMediaServer.connect(url, secret);
	console.info(`[media] using the media server ${server.serverId} at ${url}`);
	process.once('exit', () => void server.close());
	return server;
}

/**
 * The process's media service as a getter: its own mediasoup workers, or
 * the media server MEDIA_SERVER_URL names. Started (or connected) on first
 * call, and again on the next call if that failed (a missing worker binary,
 * a media server not up yet), so one bad start does not disable live classes.
 */
export function mediaServiceProvider({ env, media }: ServerConfig): () => Promise<MediaService> {
	const recordingsDir = path.resolve(env.RECORDINGS_DIR);
	let current: Promise<MediaService> | undefined;
	return () => {
		if (!current) {
			const started =
				env.MEDIA_SERVER_URL && env.MEDIA_CONTROL_SECRET
					? connectRemote(env.MEDIA_SERVER_URL, env.MEDIA_CONTROL_SECRET)
					: createLocal(media, recordingsDir);
			current = started;
			started.catch(() => {
				if (current === started) current = undefined;
			});
		}
		return current;
	};
}
