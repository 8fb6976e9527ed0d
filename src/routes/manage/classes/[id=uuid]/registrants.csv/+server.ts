import { error } from '@sveltejs/kit';
import { may } from '$lib/server/class-access.ts';
import { requireClassAccess } from '$lib/server/class-guard.ts';
import { getClass, listRegistrants } from '$lib/server/classes.ts';
import { csvHeaders, toCsv } from '$lib/server/csv.ts';
import { getDb } from '$lib/server/platform.ts';
import { m } from '$lib/paraglide/messages.js';
import { translate } from '$lib/i18n/translate.ts';
import { toCstLocalInput } from '$lib/time.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ params, locals, url }) => {
	await requireClassAccess(locals, url, params.id, may.manage);
	const db = await getDb();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	const registrants = await listRegistrants(db, cls.id);
	const csv = toCsv(
		[
			m.manage_col_name(),
			m.manage_col_contact(),
			m.manage_col_company(),
			m.manage_col_credit_code(),
			m.manage_col_priority(),
			m.manage_col_status(),
			m.manage_col_registered_at()
		],
		registrants.map((r) => [
			r.user.displayName,
			[r.user.phone, r.user.email].filter(Boolean).join(' / '),
			r.user.companyName,
			r.user.creditCode,
			r.user.priorityService
				? r.user.priorityReason
					? translate(`priority_${r.user.priorityReason}`)
					: m.yes()
				: '',
			translate(`reg_${r.status}`),
			// A plain "YYYY-MM-DD HH:mm" sorts and parses well in spreadsheets.
			toCstLocalInput(r.createdAt).replace('T', ' ')
		])
	);
	const day = toCstLocalInput(cls.startsAt).slice(0, 10);
	const filename = `${m.class_registrants()}-${cls.title.slice(0, 40)}-${day}.csv`;
	return new Response(csv, { headers: csvHeaders(filename, `registrants-${day}.csv`) });
};
