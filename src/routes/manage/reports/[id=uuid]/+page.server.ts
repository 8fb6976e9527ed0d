import { error } from '@sveltejs/kit';
import { getLocale } from '$lib/paraglide/runtime.js';
import { BUREAU_STAFF, requireRole } from '$lib/server/auth/guard.ts';
import { getDb } from '$lib/server/platform.ts';
import { classReport } from '$lib/server/reports/report.ts';
import { classTables } from '$lib/server/reports/tables.ts';
import type { PageServerLoad } from './$types';

/** One class's report: attendance, viewers over time, Q&A and satisfaction. */
export const load: PageServerLoad = async ({ locals, url, params }) => {
	requireRole(locals, url, BUREAU_STAFF);
	const report = await classReport(await getDb(), params.id);
	if (!report) error(404, { message: 'class_not_found' });
	return { report, tables: classTables(report, getLocale()) };
};
