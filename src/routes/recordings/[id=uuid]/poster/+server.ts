import { serveRecordingFile } from '$lib/server/recordings/http.ts';
import type { RequestHandler } from './$types';

/** The replay's poster image; same access rules as the video. */
export const GET: RequestHandler = ({ locals, request, params }) =>
	serveRecordingFile(locals, request, params.id, 'poster');

export const HEAD: RequestHandler = GET;
