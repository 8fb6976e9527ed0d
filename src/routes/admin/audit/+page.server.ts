import { requireRole } from '$lib/server/auth/guard.ts';
import { AUDIT_ACTIONS, AUDIT_PAGE_SIZE, listAudit, parseAuditQuery } from '$lib/server/audit.ts';
import { getDb } from '$lib/server/platform.ts';
import type { PageServerLoad } from './$types';

/** The audit log of staff and admin actions, filtered and paged, for admins. */
export const load: PageServerLoad = async ({ locals, url }) => {
	requireRole(locals, url, ['ADMIN']);
	const { filter, page, form } = parseAuditQuery(url.searchParams);
	const { rows, total } = await listAudit(await getDb(), filter, page);
	const pages = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
	/** The current filters with another page number. */
	const pageHref = (n: number) => {
		const params = new URLSearchParams(url.searchParams);
		params.set('page', String(n));
		return `?${params}`;
	};
	return {
		rows: rows.map((r) => ({ ...r, details: detailPairs(r.details) })),
		total,
		page,
		pages,
		prevHref: page > 1 ? pageHref(page - 1) : null,
		nextHref: page < pages ? pageHref(page + 1) : null,
		actions: AUDIT_ACTIONS,
		filter: form,
		query: url.searchParams.toString()
	};
};

/** Details as name/value pairs for the table. */
function detailPairs(details: unknown): [string, string][] {
	if (!details || typeof details !== 'object' || Array.isArray(details)) return [];
	return Object.entries(details).map(([key, value]) => [key, String(value)]);
}
