import { hlsAccess } from '$lib/server/recordings/hls-http.ts';
import type { RequestHandler } from './$types';

/**
 * 204 when the request's user may watch the recording, 403 when not: what
 * an nginx `auth_request` (or a CDN's edge check) asks before it answers a
 * segment from its cache. See the README.
 */
export const GET: RequestHandler = async ({ locals, params }) => {
	const found = await hlsAccess(locals.user, params.id);
	const status = !found ? 404 : found.access === 'none' ? 403 : 204;
	return new Response(null, { status, headers: { 'cache-control': 'private, no-store' } });
};
