/**
 * The app's HLS serving code on its own HTTP server, for the viewers-per-box
 * bench: the session cookie is validated as hooks.server.ts does (the
 * platform's session cache), then
 * serveRecordingHls answers (access check, remembered for a few seconds;
 * playlists and segments from RECORDINGS_DIR). The rest of the app (pages,
 * sockets, its own recorder) stays out, so the bench's recorder can write the
 * stream this serves. Prints its port.
 *
 *   tsx bench/viewers-per-box/hls-origin.ts   (env: PGLITE_DIR, RECORDINGS_DIR)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { isHttpError } from '@sveltejs/kit';
import { SESSION_COOKIE } from '../../src/lib/server/auth/session.ts';
import { platform } from '../../src/lib/server/platform.ts';
import { serveRecordingHls } from '../../src/lib/server/recordings/hls-http.ts';

const PATH = /^\/recordings\/([0-9a-f-]{36})\/hls\/(.+)$/;
const COOKIE = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`);

const server = createServer(async (req, res) => {
	try {
		const match = PATH.exec(req.url ?? '');
		if (!match) {
			res.writeHead(404).end();
			return;
		}
		const token = COOKIE.exec(req.headers.cookie ?? '')?.[1];
		const session = token ? await (await platform()).sessions.validate(token) : null;
		const locals = { user: session?.user ?? null, sessionId: session?.id ?? null } as App.Locals;
		const request = new Request(`http://origin${req.url}`, {
			headers: req.headers as Record<string, string>
		});
		const response = await serveRecordingHls(
			locals,
			request,
			match[1]!,
			match[2]!,
			session?.id ?? `address:${req.socket.remoteAddress}`
		);
		res.writeHead(response.status, Object.fromEntries(response.headers));
		if (response.body) Readable.fromWeb(response.body as never).pipe(res);
		else res.end();
	} catch (error) {
		res.writeHead(isHttpError(error) ? error.status : 500).end();
	}
});
server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
