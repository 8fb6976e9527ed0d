import { getDb } from '$lib/server/db/client.ts';
import { requireQaAccess } from '$lib/server/qa/access.ts';
import { questionsCsv } from '$lib/server/qa/service.ts';
import { m } from '$lib/paraglide/messages.js';
import type { RequestHandler } from './$types';

/** Every question of the class (hidden and pending included), for staff. */
export const GET: RequestHandler = async ({ params, locals, url }) => {
	await requireQaAccess(locals, url, params.id, 'moderator');
	const headers = [
		m.qa_csv_asked_at(),
		m.qa_csv_offset(),
		m.qa_csv_status(),
		m.qa_csv_author(),
		m.qa_csv_anonymous(),
		m.qa_csv_priority(),
		m.qa_csv_votes(),
		m.qa_csv_question(),
		m.qa_csv_answer(),
		m.qa_csv_answered_live(),
		m.qa_csv_answered_by(),
		m.qa_csv_answered_at(),
		m.qa_csv_answer_offset()
	];
	const body = await questionsCsv(await getDb(), params.id, headers);
	return new Response(body, {
		headers: {
			'content-type': 'text/csv; charset=utf-8',
			'content-disposition': `attachment; filename="questions-${params.id}.csv"`,
			'cache-control': 'private, no-store'
		}
	});
};
