import { json } from '@sveltejs/kit';
import { may } from '$lib/server/class-access.ts';
import { requireClassAccessForApi } from '$lib/server/class-guard.ts';
import { liveAudience } from '$lib/server/recordings/audience.ts';
import type { RequestHandler } from './$types';

/** How many watch the live class over WebRTC and over HLS (staff console). */
export const GET: RequestHandler = async ({ locals, params }) => {
	await requireClassAccessForApi(locals, params.id, may.manage, 'qa_error_forbidden');
	return json(liveAudience(params.id), { headers: { 'cache-control': 'private, no-store' } });
};
