import { serveRecordingFile } from '$lib/server/recordings/http.ts';
import type { RequestHandler } from './$types';

/** The replay MP4, Range-served; access checked on every request. */
export const GET: RequestHandler = ({ locals, request, params }) =>
	serveRecordingFile(locals, request, params.id, 'media');

export const HEAD: RequestHandler = GET;
