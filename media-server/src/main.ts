import { z } from 'zod';
import { serveControl } from './control/server.js';
import { createMediaServer, mediaServerConfigFromEnv } from './index.js';
import type { MediaLogger } from './logger.js';

/**
 * `npm run media-server`: the media side as its own service, for app
 * processes that set MEDIA_SERVER_URL. Its MEDIA_* variables are the ones an
 * embedded app process reads, plus the control endpoint's below.
 */

const serviceSchema = z.object({
	MEDIA_CONTROL_SECRET: z
		.string({ error: 'is required: app processes authenticate with it' })
		.min(16, 'must be at least 16 characters'),
	MEDIA_CONTROL_HOST: z.string().min(1).default('127.0.0.1'),
	MEDIA_CONTROL_PORT: z.coerce.number().int().min(0).max(65535).default(4500),
	MEDIA_SERVER_ID: z.string().min(1).max(100).optional(),
	RECORDINGS_DIR: z.string().min(1).default('./data/recordings')
});

function readServiceEnv() {
	const parsed = serviceSchema.safeParse(process.env);
	if (parsed.success) return parsed.data;
	const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
	console.error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
	process.exit(1);
}

const logger: MediaLogger = {
	debug: () => {},
	info: (message, meta) => console.info(`[media-server] ${message}`, meta ?? ''),
	warn: (message, meta) => console.warn(`[media-server] ${message}`, meta ?? ''),
	error: (message, meta) => console.error(`[media-server] ${message}`, meta ?? '')
};

const env = readServiceEnv();
const media = await createMediaServer(mediaServerConfigFromEnv(), {
	logger,
	recordingsDir: env.RECORDINGS_DIR
});
const control = await serveControl(media, {
	serverId: env.MEDIA_SERVER_ID,
	secret: env.MEDIA_CONTROL_SECRET,
	host: env.MEDIA_CONTROL_HOST,
	port: env.MEDIA_CONTROL_PORT,
	logger
});
// Tests and supervisors read the port from this line (MEDIA_CONTROL_PORT=0 picks one).
console.info(`[media-server] control listening on ${env.MEDIA_CONTROL_HOST}:${control.port}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
	process.once(signal, () => {
		void control.close().finally(async () => {
			await media.close();
			process.exit(0);
		});
	});
}
