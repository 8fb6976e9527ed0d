import { error } from '@sveltejs/kit';
import { may } from '$lib/server/class-access.ts';
import { requireClassAccess } from '$lib/server/class-guard.ts';
import { getClass } from '$lib/server/classes.ts';
import { csvHeaders } from '$lib/server/csv.ts';
import { getDb } from '$lib/server/platform.ts';
import { questionsCsv } from '$lib/server/qa/export.ts';
import { m } from '$lib/paraglide/messages.js';
import { toCstLocalInput } from '$lib/time.ts';
import type { RequestHandler } from './$types';

/** Every question of the class (hidden and pending included), for staff. */
export const GET: RequestHandler = async ({ params, locals, url }) => {
	await requireClassAccess(locals, url, params.id, may.manage, 'qa_error_forbidden');
	const db = await getDb();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	const body = await questionsCsv(db, cls.id, {
		headers: [
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
		],
		yes: m.yes(),
		no: m.no()
	});
	const day = toCstLocalInput(cls.startsAt).slice(0, 10);
	return new Response(body, {
		headers: csvHeaders(
			`${m.qa_title()}-${cls.title.slice(0, 40)}-${day}.csv`,
			`questions-${day}.csv`
		)
	});
};
