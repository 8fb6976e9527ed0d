import { getLocale } from '$lib/paraglide/runtime.js';
import { BUREAU_STAFF, requireRole } from '$lib/server/auth/guard.ts';
import { getDb } from '$lib/server/platform.ts';
import { reportRange } from '$lib/server/reports/range.ts';
import { overviewReport } from '$lib/server/reports/report.ts';
import { overviewTables } from '$lib/server/reports/tables.ts';
import type { PageServerLoad } from './$types';

/** Across classes: by month, topic and instructor, and each class, for staff and admins. */
export const load: PageServerLoad = async ({ locals, url }) => {
	requireRole(locals, url, BUREAU_STAFF);
	const range = reportRange(url);
	const report = await overviewReport(await getDb(), range);
	// What the page draws besides the tables: sent once, not as the whole report again.
	return {
		range,
		total: report.total,
		attendance: report.classes.map((c) => ({
			title: c.title,
			registered: c.registered,
			attendedLive: c.attendedLive
		})),
		trend: report.byMonth.map((g) => ({ label: g.label, satisfaction: g.satisfaction })),
		tables: overviewTables(report, getLocale())
	};
};
