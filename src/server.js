// Production entry: one HTTP server for SvelteKit pages and socket.io.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

// Without ORIGIN, adapter-node takes the protocol from PROTOCOL_HEADER or else
// assumes https, and form posts over plain http then fail its CSRF check. This
// server is plain http, so it says so in a header it always overwrites (a
// client cannot forge it).
const PROTOCOL_HEADER = 'x-taxpayer-classroom-protocol';
const stateProtocol = !process.env.ORIGIN && !process.env.PROTOCOL_HEADER;
if (stateProtocol) process.env.PROTOCOL_HEADER = PROTOCOL_HEADER;

// Behind a TLS proxy the public origin is https, but this server only sees
// http: without ORIGIN every form post would fail the CSRF check and cookies
// would be marked for the wrong scheme. Refuse to serve, and say why.
const MISSING_ORIGIN =
	'ORIGIN is not set, but requests arrive through an https proxy (X-Forwarded-Proto: https). ' +
	'Set ORIGIN to the public URL, e.g. ORIGIN=https://xuetang.example.gov.cn, and restart.\n' +
	'未设置 ORIGIN，但请求经 https 反向代理转发。请将 ORIGIN 设为对外访问地址后重启。\n';
let warnedMissingOrigin = false;

// Uploads of class materials come as one form post: let a request body hold the
// largest material plus the form around it. The upload action answers a body
// over the limit with a clear message; env.ts validates MATERIALS_MAX_MB at start.
const materialsMaxMb = Number(process.env.MATERIALS_MAX_MB || 50);
if (!process.env.BODY_SIZE_LIMIT && Number.isFinite(materialsMaxMb) && materialsMaxMb > 0) {
	process.env.BODY_SIZE_LIMIT = String(Math.ceil((materialsMaxMb + 1) * 1024 * 1024));
}

/** @type {import('node:http').RequestListener | undefined} */
let handler;
// Registered before socket.io attaches (during the import below), so socket.io
// sees it and keeps its own /socket.io/ requests away from SvelteKit.
const server = createServer((req, res) => {
	if (stateProtocol && req.headers['x-forwarded-proto'] === 'https') {
		if (!warnedMissingOrigin) console.error(MISSING_ORIGIN);
		warnedMissingOrigin = true;
		res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(MISSING_ORIGIN);
		return;
	}
	if (stateProtocol) req.headers[PROTOCOL_HEADER] = 'http';
	handler?.(req, res);
});

// hooks.server.ts picks the server up here and attaches socket.io to it; the
// watch page reads the names of its early script's chunks from the client folder.
/** @type {Record<symbol, unknown>} */ (globalThis)[Symbol.for('taxpayer-classroom.httpServer')] =
	server;
/** @type {Record<symbol, unknown>} */ (globalThis)[Symbol.for('taxpayer-classroom.clientDir')] =
	fileURLToPath(new URL('../build/client', import.meta.url));

// A variable specifier keeps the type checker out of the generated build.
const buildHandler = '../build/handler.js';
({ handler } = await import(buildHandler));

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '0.0.0.0';
server.listen(port, host, () => {
	console.log(`纳税人学堂 listening on http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`);
});

// The platform (made by the SvelteKit bundle on its first use) stops what its
// init started: the mail sender finishes the sends in flight, attendance closes
// the connections it holds. Then the process exits, after 3 s at the latest.
const PLATFORM_KEY = Symbol.for('taxpayer-classroom.platform');
let stopping = false;
async function shutdown() {
	if (stopping) return;
	stopping = true;
	setTimeout(() => process.exit(0), 3000).unref();
	const closed = new Promise((resolve) => server.close(resolve));
	const holder = /** @type {Record<symbol, Promise<{ stop: () => Promise<void> }> | undefined>} */ (
		/** @type {unknown} */ (globalThis)
	);
	const platform = holder[PLATFORM_KEY];
	await Promise.allSettled([closed, platform?.then((p) => p.stop())]);
	process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
