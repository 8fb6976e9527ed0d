import { error, json } from '@sveltejs/kit';
import { getDb } from '$lib/server/platform.ts';
import { currentStream } from '$lib/server/recordings/service.ts';
import { hlsAccess } from '$lib/server/recordings/hls-http.ts';
import type { RequestHandler } from './$types';

/**
 * The class's HLS stream while it is live (what the watch page plays in
 * 流畅模式, on overflow, and for rewind): 404 until it has one, which a
 * VP8 class never does.
 */
export const GET: RequestHandler = async ({ locals, params }) => {
	const stream = await currentStream(await getDb(), params.id);
	if (!stream) error(404, { message: 'rec_none' });
	const found = await hlsAccess(locals.user, stream.recordingId);
	if (!found || found.access === 'none') error(403, { message: 'error_forbidden' });
	return json(stream, { headers: { 'cache-control': 'private, no-store' } });
};
