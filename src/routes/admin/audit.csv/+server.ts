import { requireRole } from '$lib/server/auth/guard.ts';
import { exportAudit, parseAuditQuery } from '$lib/server/audit.ts';
import { csvHeaders, toCsv } from '$lib/server/csv.ts';
import { getDb } from '$lib/server/platform.ts';
import { m } from '$lib/paraglide/messages.js';
import { translate } from '$lib/i18n/translate.ts';
import { toCstLocalInput, toCstTimestamp } from '$lib/time.ts';
import type { RequestHandler } from './$types';

/** The audit log as CSV, with the page's filters. */
export const GET: RequestHandler = async ({ locals, url }) => {
	requireRole(locals, url, ['ADMIN']);
	const { filter } = parseAuditQuery(url.searchParams);
	const rows = await exportAudit(await getDb(), filter);
	const csv = toCsv(
		[
			m.audit_col_time(),
			m.audit_col_actor(),
			m.audit_col_role(),
			m.audit_col_action(),
			m.audit_col_target(),
			m.audit_col_target_id(),
			m.audit_col_details()
		],
		rows.map((r) => [
			toCstTimestamp(r.at),
			r.actorName,
			translate(`role_${r.actorRole}`),
			translate(`audit_action_${r.action.replace('.', '_')}`),
			r.targetLabel,
			r.targetId,
			r.details ? JSON.stringify(r.details) : null
		])
	);
	const day = toCstLocalInput(new Date()).slice(0, 10);
	return new Response(csv, {
		headers: csvHeaders(`${m.audit_title()}-${day}.csv`, `audit-${day}.csv`)
	});
};
