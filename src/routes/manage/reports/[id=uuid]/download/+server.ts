import { error } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages.js';
import { getLocale } from '$lib/paraglide/runtime.js';
import { BUREAU_STAFF, requireRole } from '$lib/server/auth/guard.ts';
import { getDb } from '$lib/server/platform.ts';
import { reportDownload } from '$lib/server/reports/download.ts';
import { classReport } from '$lib/server/reports/report.ts';
import { classTables } from '$lib/server/reports/tables.ts';
import type { RequestHandler } from './$types';

/** One table of a class's report as CSV (?table=…), or all of it as XLSX (?format=xlsx). */
export const GET: RequestHandler = async ({ locals, url, params }) => {
	requireRole(locals, url, BUREAU_STAFF);
	const report = await classReport(await getDb(), params.id);
	if (!report) error(404, { message: 'class_not_found' });
	const tables = classTables(report, getLocale());
	const name = `${m.report_class_title({ title: report.row.title })}`;
	const response = await reportDownload(url, name, `class-report-${params.id}`, tables);
	if (!response) error(404, { message: 'error_not_found' });
	return response;
};
