import { serveRecordingHls } from '$lib/server/recordings/hls-http.ts';
import type { RequestHandler } from './$types';

/** The recording's HLS playlists and segments, live or finished; access checked on every request. */
export const GET: RequestHandler = ({ locals, request, params, getClientAddress }) =>
	serveRecordingHls(
		locals,
		request,
		params.id,
		params.file,
		locals.sessionId ?? `address:${getClientAddress()}`
	);

export const HEAD: RequestHandler = GET;
