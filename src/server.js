// Production entry: one HTTP server for SvelteKit pages and socket.io.
import { createServer } from 'node:http';

const server = createServer();
// hooks.server.ts picks the server up here and attaches socket.io to it.
globalThis[Symbol.for('taxpayer-classroom.httpServer')] = server;

const { handler } = await import('../build/handler.js');
server.on('request', handler);

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '0.0.0.0';
server.listen(port, host, () => {
	console.log(`纳税人学堂 listening on http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`);
});

function shutdown() {
	server.close(() => process.exit(0));
	setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
