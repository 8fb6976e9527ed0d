// Production entry: one HTTP server for SvelteKit pages and socket.io.
import { createServer } from 'node:http';

// Without ORIGIN, adapter-node takes the protocol from PROTOCOL_HEADER or else
// assumes https, and form posts over plain http then fail its CSRF check. This
// server is plain http, so it says so in a header it always overwrites (a
// client cannot forge it).
const PROTOCOL_HEADER = 'x-taxpayer-classroom-protocol';
const stateProtocol = !process.env.ORIGIN && !process.env.PROTOCOL_HEADER;
if (stateProtocol) process.env.PROTOCOL_HEADER = PROTOCOL_HEADER;

/** @type {import('node:http').RequestListener | undefined} */
let handler;
// Registered before socket.io attaches (during the import below), so socket.io
// sees it and keeps its own /socket.io/ requests away from SvelteKit.
const server = createServer((req, res) => {
	if (stateProtocol) req.headers[PROTOCOL_HEADER] = 'http';
	handler?.(req, res);
});

// hooks.server.ts picks the server up here and attaches socket.io to it.
/** @type {Record<symbol, unknown>} */ (globalThis)[Symbol.for('taxpayer-classroom.httpServer')] =
	server;

// A variable specifier keeps the type checker out of the generated build.
const buildHandler = '../build/handler.js';
({ handler } = await import(buildHandler));

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
