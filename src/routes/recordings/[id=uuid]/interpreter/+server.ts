import { serveRecordingFile } from '$lib/server/recordings/http.ts';
import type { RequestHandler } from './$types';

/** The replay MP4 with the sign-language interpreter overlaid, Range-served; access checked on every request. */
export const GET: RequestHandler = ({ locals, request, params }) =>
	serveRecordingFile(locals, request, params.id, 'interpreter');

export const HEAD: RequestHandler = GET;
