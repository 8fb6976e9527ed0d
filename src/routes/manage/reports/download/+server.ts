import { error } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages.js';
import { getLocale } from '$lib/paraglide/runtime.js';
import { BUREAU_STAFF, requireRole } from '$lib/server/auth/guard.ts';
import { getDb } from '$lib/server/platform.ts';
import { reportRange } from '$lib/server/reports/range.ts';
import { overviewReport } from '$lib/server/reports/report.ts';
import { reportDownload } from '$lib/server/reports/download.ts';
import { overviewTables } from '$lib/server/reports/tables.ts';
import type { RequestHandler } from './$types';

/** One table of the cross-class report as CSV (?table=…), or all of it as XLSX (?format=xlsx). */
export const GET: RequestHandler = async ({ locals, url }) => {
	requireRole(locals, url, BUREAU_STAFF);
	const range = reportRange(url);
	const report = await overviewReport(await getDb(), range);
	const tables = overviewTables(report, getLocale());
	const name = `${m.report_title()}-${range.from}_${range.to}`;
	const response = await reportDownload(url, name, `report-${range.from}_${range.to}`, tables);
	if (!response) error(404, { message: 'error_not_found' });
	return response;
};
