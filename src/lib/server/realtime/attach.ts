import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { registerMediaNamespace } from '../media/namespace.ts';
import type { Platform } from '../platform.ts';
import { registerQaNamespace } from '../qa/namespace.ts';
import { SocketSessions } from './socket-sessions.ts';

/**
 * Attach socket.io to the app's HTTP server, once per process, with the
 * media signaling and Q&A namespaces. With REDIS_URL the Redis adapter
 * carries broadcasts between app processes.
 */
export async function attachRealtime(p: Platform, httpServer: HttpServer): Promise<Server> {
	if (p.realtime) return p.realtime;
	const io = new Server(httpServer, { serveClient: false });
	p.realtime = io;
	if (p.redis) {
		const { createAdapter } = await import('@socket.io/redis-adapter');
		const pub = p.redis.duplicate();
		const sub = p.redis.duplicate();
		await Promise.all([pub.connect(), sub.connect()]);
		io.adapter(createAdapter(pub, sub, { key: `${p.config.env.REDIS_PREFIX}:socket.io` }));
	}
	const { db, events, lifecycle, throttles, media, accessFacts, metrics } = p;
	const sessions = new SocketSessions({ db, events, sessions: p.sessions });
	registerQaNamespace(io, { db, accessFacts, events, sessions, throttles, metrics });
	registerMediaNamespace(io, { accessFacts, events, sessions, lifecycle, media });
	return io;
}
