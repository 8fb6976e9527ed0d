import type { Db } from '../db/client.ts';
import { Prisma } from '../db/generated/client.ts';
import type { MailJobStatus, MailKind } from '../db/generated/enums.ts';

/**
 * The email outbox: one table in the platform's own database (PGlite or
 * PostgreSQL alike). Jobs are queued by what happened (a registration, a
 * reschedule), claimed by the sender with FOR UPDATE SKIP LOCKED under a lease,
 * and marked sent, retried later, failed or skipped.
 *
 * Each job has a dedupe key (what, for which registration, for which class
 * start), so handling an event twice queues nothing more; a job dropped by a
 * reschedule comes back if the class moves back to that time.
 */

export const REMINDER_LEADS: Partial<Record<MailKind, number>> = {
	REMINDER_24H: 24 * 3600_000,
	REMINDER_1H: 3600_000
};
const REMINDERS = Object.keys(REMINDER_LEADS) as MailKind[];

export type ClaimedJob = {
	id: string;
	kind: MailKind;
	userId: string;
	classId: string;
	startsAt: Date | null;
	attempts: number;
};

type Plan = { kind: MailKind; runAt: Date; startsAt?: Date | null };

export type MailJobRow = {
	id: string;
	kind: MailKind;
	status: MailJobStatus;
	attempts: number;
	runAt: Date;
	lastError: string | null;
	sentAt: Date | null;
	updatedAt: Date;
	user: { displayName: string; email: string | null };
	policyClass: { id: string; title: string };
};

export class MailOutbox {
	constructor(readonly db: Db) {}

	/**
	 * Queues `plan` for the class's registrants (CONFIRMED, or every active
	 * one), or for one of them. Returns how many jobs were queued or revived.
	 */
	async queueForRegistrants(
		classId: string,
		plan: Plan[],
		{
			userIds,
			confirmedOnly = false,
			now = new Date()
		}: { userIds?: string[]; confirmedOnly?: boolean; now?: Date } = {}
	): Promise<number> {
		if (plan.length === 0) return 0;
		// Jobs tied to a class start (reminders, reschedule notices) are keyed by it.
		const rows = plan.map((p) => ({
			kind: p.kind,
			run_at: p.runAt.toISOString(),
			starts_at: p.startsAt?.toISOString() ?? null,
			suffix: p.startsAt ? `:${p.startsAt.toISOString()}` : ''
		}));
		if (userIds?.length === 0) return 0;
		const who = userIds ? Prisma.sql`AND r.user_id IN (${Prisma.join(userIds)})` : Prisma.empty;
		const status = confirmedOnly
			? Prisma.sql`AND r.status = 'CONFIRMED'`
			: Prisma.sql`AND r.status <> 'CANCELLED'`;
		return this.db.$executeRaw`
			INSERT INTO mail_job (id, kind, user_id, class_id, dedupe_key, run_at, starts_at, created_at, updated_at)
			SELECT gen_random_uuid()::text, p.kind::"MailKind", r.user_id, r.class_id,
			       p.kind || ':' || r.id || p.suffix, p.run_at, p.starts_at, ${now}, ${now}
			FROM registration r
			CROSS JOIN jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
			     AS p(kind text, run_at timestamp, starts_at timestamp, suffix text)
			WHERE r.class_id = ${classId} ${status} ${who}
			ON CONFLICT (dedupe_key) DO UPDATE
			   SET status = 'PENDING', run_at = EXCLUDED.run_at, attempts = 0, last_error = NULL,
			       locked_until = NULL, updated_at = EXCLUDED.updated_at
			 WHERE mail_job.status = 'CANCELLED'`;
	}

	/** The reminders still ahead of `now` for a class starting at `startsAt`. */
	reminderPlan(startsAt: Date, now: Date): Plan[] {
		return REMINDERS.flatMap((kind) => {
			const runAt = new Date(startsAt.getTime() - REMINDER_LEADS[kind]!);
			return runAt > now ? [{ kind, runAt, startsAt }] : [];
		});
	}

	/** Drops jobs not sent yet: of the class, of one registrant, of some kinds. */
	async dropPending(
		classId: string,
		{ userId, kinds, now = new Date() }: { userId?: string; kinds?: MailKind[]; now?: Date } = {}
	): Promise<number> {
		const { count } = await this.db.mailJob.updateMany({
			where: {
				classId,
				status: 'PENDING',
				...(userId ? { userId } : {}),
				...(kinds ? { kind: { in: kinds } } : {})
			},
			data: { status: 'CANCELLED', lockedUntil: null, updatedAt: now }
		});
		return count;
	}

	dropReminders(classId: string, now = new Date()): Promise<number> {
		return this.dropPending(classId, { kinds: [...REMINDERS, 'RESCHEDULED'], now });
	}

	/**
	 * Takes up to `limit` due jobs for this sender, each held until `now + leaseMs`.
	 * Concurrent senders (other processes) skip the rows one has locked.
	 */
	async claim(now: Date, limit: number, leaseMs: number): Promise<ClaimedJob[]> {
		const lease = new Date(now.getTime() + leaseMs);
		const rows = await this.db.$queryRaw<
			{
				id: string;
				kind: MailKind;
				user_id: string;
				class_id: string;
				starts_at: Date | null;
				attempts: number;
			}[]
		>`
			UPDATE mail_job SET locked_until = ${lease}, attempts = attempts + 1, updated_at = ${now}
			WHERE id IN (
				SELECT id FROM mail_job
				WHERE status = 'PENDING' AND run_at <= ${now}
				  AND (locked_until IS NULL OR locked_until < ${now})
				ORDER BY run_at
				LIMIT ${limit}
				FOR UPDATE SKIP LOCKED)
			RETURNING id, kind::text AS kind, user_id, class_id, starts_at, attempts`;
		return rows.map((r) => ({
			id: r.id,
			kind: r.kind,
			userId: r.user_id,
			classId: r.class_id,
			startsAt: r.starts_at ? new Date(r.starts_at) : null,
			attempts: Number(r.attempts)
		}));
	}

	async markSent(id: string, now = new Date()): Promise<void> {
		await this.db.mailJob.update({
			where: { id },
			data: { status: 'SENT', sentAt: now, lockedUntil: null, lastError: null }
		});
	}

	async markSkipped(id: string, reason: string): Promise<void> {
		await this.db.mailJob.update({
			where: { id },
			data: { status: 'SKIPPED', lockedUntil: null, lastError: reason }
		});
	}

	/** A failed attempt: tried again at `retryAt`, or given up (FAILED) when null. */
	async markAttemptFailed(id: string, error: string, retryAt: Date | null): Promise<void> {
		await this.db.mailJob.update({
			where: { id },
			data: {
				lockedUntil: null,
				lastError: error.slice(0, 1000),
				...(retryAt ? { runAt: retryAt } : { status: 'FAILED' })
			}
		});
	}

	/** Staff: send a failed job again, now, with a fresh set of attempts. */
	async retry(id: string, now = new Date()): Promise<boolean> {
		const { count } = await this.db.mailJob.updateMany({
			where: { id, status: 'FAILED' },
			data: { status: 'PENDING', attempts: 0, runAt: now, lockedUntil: null }
		});
		return count === 1;
	}

	/** When the next pending job falls due, if any. */
	async nextDueAt(): Promise<Date | null> {
		const next = await this.db.mailJob.findFirst({
			where: { status: 'PENDING' },
			orderBy: { runAt: 'asc' },
			select: { runAt: true, lockedUntil: true }
		});
		if (!next) return null;
		return next.lockedUntil && next.lockedUntil > next.runAt ? next.lockedUntil : next.runAt;
	}

	async countByStatus(): Promise<Record<MailJobStatus, number>> {
		const groups = await this.db.mailJob.groupBy({ by: ['status'], _count: { _all: true } });
		const counts: Record<MailJobStatus, number> = {
			PENDING: 0,
			SENT: 0,
			FAILED: 0,
			SKIPPED: 0,
			CANCELLED: 0
		};
		for (const g of groups) counts[g.status] = g._count._all;
		return counts;
	}

	/** What staff look at: failures, and pending jobs that have failed at least once. */
	async listTroubled(limit = 200): Promise<MailJobRow[]> {
		return this.db.mailJob.findMany({
			where: {
				OR: [{ status: 'FAILED' }, { status: 'PENDING', lastError: { not: null } }]
			},
			orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }],
			take: limit,
			select: {
				id: true,
				kind: true,
				status: true,
				attempts: true,
				runAt: true,
				lastError: true,
				sentAt: true,
				updatedAt: true,
				user: { select: { displayName: true, email: true } },
				policyClass: { select: { id: true, title: true } }
			}
		});
	}
}
