// Production entry: one HTTP server for SvelteKit pages and socket.io.
import { createServer } from 'node:http';

const server = createServer();
// hooks.server.ts picks the server up here and attaches socket.io to it.
/** @type {Record<symbol, unknown>} */ (globalThis)[Symbol.for('taxpayer-classroom.httpServer')] =
	server;

// A variable specifier keeps the type checker out of the generated build.
const buildHandler = '../build/handler.js';
const { handler } = await import(buildHandler);
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
