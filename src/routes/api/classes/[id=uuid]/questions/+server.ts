import { json } from '@sveltejs/kit';
import { may } from '$lib/server/class-access.ts';
import { requireClassAccessForApi } from '$lib/server/class-guard.ts';
import { getDb } from '$lib/server/platform.ts';
import { listForReplay } from '$lib/server/qa/replay.ts';
import type { RequestHandler } from './$types';

/** A class's visible questions and answers with their class-time offsets, for replay. */
export const GET: RequestHandler = async ({ params, locals }) => {
	await requireClassAccessForApi(locals, params.id, may.followQa, 'qa_error_not_participant');
	const replay = await listForReplay(await getDb(), params.id);
	return json(replay, { headers: { 'cache-control': 'private, no-store' } });
};
