import { json } from '@sveltejs/kit';
import { getDb } from '$lib/server/db/client.ts';
import { requireQaAccess } from '$lib/server/qa/access.ts';
import { listForReplay } from '$lib/server/qa/service.ts';
import type { RequestHandler } from './$types';

/** A class's visible questions and answers with their class-time offsets, for replay. */
export const GET: RequestHandler = async ({ params, locals, url }) => {
	await requireQaAccess(locals, url, params.id, 'any');
	const replay = await listForReplay(await getDb(), params.id);
	return json(replay, { headers: { 'cache-control': 'private, no-store' } });
};
