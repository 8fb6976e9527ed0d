import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ServerEnv } from '../env.ts';

const IO_KEY = Symbol.for('taxpayer-classroom.io');
type WithIo = { [IO_KEY]?: Server };

/**
 * Attach socket.io to the app's HTTP server once per process. The namespaces
 * (media signaling, Q&A) register themselves on the returned server.
 */
export async function attachRealtime(httpServer: HttpServer, env: ServerEnv): Promise<Server> {
	const holder = globalThis as WithIo;
	if (holder[IO_KEY]) return holder[IO_KEY];
	const io = new Server(httpServer, { serveClient: false });
	if (env.REDIS_URL) {
		const [{ createAdapter }, { createClient }] = await Promise.all([
			import('@socket.io/redis-adapter'),
			import('redis')
		]);
		const pub = createClient({ url: env.REDIS_URL });
		const sub = pub.duplicate();
		await Promise.all([pub.connect(), sub.connect()]);
		io.adapter(createAdapter(pub, sub));
	}
	holder[IO_KEY] = io;
	return io;
}
