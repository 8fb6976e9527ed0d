import type { Server as HttpServer } from 'node:http';
import type { createClient } from 'redis';
import { Server } from 'socket.io';
import type { ServerEnv } from '../env.ts';

const REALTIME_KEY = Symbol.for('taxpayer-classroom.realtime');

export type Realtime = {
	io: Server;
	/** Connected when REDIS_URL is set: the adapter's publisher, free for commands too. */
	redis: ReturnType<typeof createClient> | null;
};
type WithRealtime = { [REALTIME_KEY]?: Realtime };

/** The attached socket.io server and its Redis client, once attachRealtime has run. */
export function currentRealtime(): Realtime | undefined {
	return (globalThis as WithRealtime)[REALTIME_KEY];
}

/**
 * Attach socket.io to the app's HTTP server once per process. The namespaces
 * (media signaling, Q&A) register themselves on the returned server.
 */
export async function attachRealtime(httpServer: HttpServer, env: ServerEnv): Promise<Realtime> {
	const attached = currentRealtime();
	if (attached) return attached;
	const io = new Server(httpServer, { serveClient: false });
	let redis: Realtime['redis'] = null;
	if (env.REDIS_URL) {
		const [{ createAdapter }, { createClient }] = await Promise.all([
			import('@socket.io/redis-adapter'),
			import('redis')
		]);
		redis = createClient({ url: env.REDIS_URL });
		const sub = redis.duplicate();
		await Promise.all([redis.connect(), sub.connect()]);
		io.adapter(createAdapter(redis, sub));
	}
	return ((globalThis as WithRealtime)[REALTIME_KEY] = { io, redis });
}
