import { z } from 'zod';
import { withoutNul } from '$lib/schemas/form.ts';
import { parseCstDate } from '$lib/time.ts';
import type { SessionUser } from './auth/session.ts';
import type { Db } from './db/client.ts';
import type { Prisma } from './db/generated/client.ts';
import type { Role } from './db/generated/enums.ts';

/**
 * The audit log of staff and admin actions. Entries are written in the same
 * transaction as the action where there is one, so an action and its entry
 * land together or not at all. Names are copied in, so the log still reads
 * right after an account is renamed or removed.
 */
export const AUDIT_ACTIONS = [
	'class.created',
	'class.edited',
	'class.cancelled',
	'class.interpreter_assigned',
	'user.role_changed',
	'user.disabled',
	'user.enabled',
	'recording.visibility_changed',
	'recording.deleted',
	'question.approved',
	'question.hidden',
	'question.unhidden',
	'question.answered',
	'question.answered_live',
	'material.uploaded',
	'material.deleted',
	'material.visibility_changed'
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditTargetType = 'class' | 'user' | 'recording' | 'question' | 'material';

export type AuditEntryInput = {
	actor: Pick<SessionUser, 'id' | 'displayName' | 'role'>;
	action: AuditAction;
	target: { type: AuditTargetType; id: string; label?: string | null };
	classId?: string | null;
	details?: Record<string, string | number | boolean | null>;
	at?: Date;
};

type Writer = Pick<Db, 'auditEntry'> | Prisma.TransactionClient;

export async function recordAudit(db: Writer, entry: AuditEntryInput): Promise<void> {
	await db.auditEntry.create({
		data: {
			at: entry.at ?? new Date(),
			actorId: entry.actor.id,
			actorName: entry.actor.displayName,
			actorRole: entry.actor.role,
			action: entry.action,
			targetType: entry.target.type,
			targetId: entry.target.id,
			targetLabel: entry.target.label?.slice(0, 200) ?? null,
			classId: entry.classId ?? null,
			details: entry.details ?? undefined
		}
	});
}

export type AuditFilter = {
	action?: AuditAction;
	actor?: string;
	from?: Date;
	to?: Date;
};

export const AUDIT_PAGE_SIZE = 50;

const DAY_MS = 24 * 3600_000;

// Unknown or malformed filter values are ignored rather than failing the page.
const filterSchema = z.object({
	action: z.enum(AUDIT_ACTIONS).optional().catch(undefined),
	actor: z.string().trim().max(60).transform(withoutNul).catch(''),
	from: z.string().max(10).catch(''),
	to: z.string().max(10).catch(''),
	page: z.coerce.number().int().min(1).max(100_000).catch(1)
});

/** The audit page's filter from its query string (dates are China Standard Time days). */
export function parseAuditQuery(params: URLSearchParams) {
	const raw = filterSchema.parse({
		action: params.get('action') || undefined,
		actor: params.get('actor') ?? '',
		from: params.get('from') ?? '',
		to: params.get('to') ?? '',
		page: params.get('page') ?? 1
	});
	const from = parseCstDate(raw.from);
	const toStart = parseCstDate(raw.to);
	const filter: AuditFilter = {
		action: raw.action,
		actor: raw.actor || undefined,
		from: from ?? undefined,
		// "To" takes in that whole day.
		to: toStart ? new Date(toStart.getTime() + DAY_MS) : undefined
	};
	return { filter, page: raw.page, form: raw };
}

function where(filter: AuditFilter): Prisma.AuditEntryWhereInput {
	const and: Prisma.AuditEntryWhereInput[] = [];
	if (filter.action) and.push({ action: filter.action });
	if (filter.actor) and.push({ actorName: { contains: filter.actor, mode: 'insensitive' } });
	if (filter.from) and.push({ at: { gte: filter.from } });
	if (filter.to) and.push({ at: { lt: filter.to } });
	return { AND: and };
}

const entrySelect = {
	id: true,
	at: true,
	actorName: true,
	actorRole: true,
	action: true,
	targetType: true,
	targetId: true,
	targetLabel: true,
	classId: true,
	details: true
} satisfies Prisma.AuditEntrySelect;

export type AuditRow = {
	id: string;
	at: Date;
	actorName: string;
	actorRole: Role;
	action: string;
	targetType: string;
	targetId: string;
	targetLabel: string | null;
	classId: string | null;
	details: Prisma.JsonValue;
};

/** One page of entries, newest first, and how many match in all. */
export async function listAudit(
	db: Db,
	filter: AuditFilter,
	page: number
): Promise<{ rows: AuditRow[]; total: number }> {
	const [rows, total] = await Promise.all([
		db.auditEntry.findMany({
			where: where(filter),
			select: entrySelect,
			orderBy: [{ at: 'desc' }, { id: 'desc' }],
			skip: (page - 1) * AUDIT_PAGE_SIZE,
			take: AUDIT_PAGE_SIZE
		}),
		db.auditEntry.count({ where: where(filter) })
	]);
	return { rows, total };
}

/** Every matching entry, oldest first, for the CSV export (bounded). */
export async function exportAudit(db: Db, filter: AuditFilter): Promise<AuditRow[]> {
	return db.auditEntry.findMany({
		where: where(filter),
		select: entrySelect,
		orderBy: [{ at: 'asc' }, { id: 'asc' }],
		take: 100_000
	});
}
