import type { ClassDetails } from './classes.ts';
import type { Db } from './db/client.ts';
import type { ClassStatus, RegistrationStatus } from './db/generated/enums.ts';

/**
 * Registration rules. Every change to a class's seats happens inside a
 * transaction that first locks the class row, so concurrent registrations and
 * cancellations for one class run one after another: capacity holds and the
 * waitlist keeps arrival order. The database backs this up with a CHECK on
 * confirmed_count and a partial unique index on active registrations.
 */

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

type LockedClass = {
	id: string;
	capacity: number;
	confirmedCount: number;
	status: ClassStatus;
	opensAt: Date;
	closesAt: Date;
};

export type RegistrationRefusal =
	| 'class_not_found'
	| 'not_open_yet'
	| 'registration_closed'
	| 'class_cancelled'
	| 'class_ended'
	| 'already_registered'
	| 'not_registered';

export type RegistrationOutcome =
	| { ok: true; registrationId: string; status: Exclude<RegistrationStatus, 'CANCELLED'> }
	| { ok: false; reason: RegistrationRefusal };

export type CancellationOutcome =
	{ ok: true; promotedRegistrationIds: string[] } | { ok: false; reason: RegistrationRefusal };

async function lockClass(tx: Tx, classId: string): Promise<LockedClass | null> {
	const rows = await tx.$queryRaw<LockedClass[]>`
		SELECT id, capacity, confirmed_count AS "confirmedCount", status::text AS status,
		       registration_opens_at AS "opensAt", registration_closes_at AS "closesAt"
		FROM policy_class WHERE id = ${classId} FOR UPDATE`;
	return rows[0] ?? null;
}

/** Why a class does not take registrations at `now`, or null when it does. */
export function registrationWindowRefusal(
	cls: { status: ClassStatus; opensAt: Date; closesAt: Date },
	now: Date
): RegistrationRefusal | null {
	if (cls.status === 'CANCELLED') return 'class_cancelled';
	if (cls.status === 'ENDED') return 'class_ended';
	if (now < cls.opensAt) return 'not_open_yet';
	if (now >= cls.closesAt) return 'registration_closed';
	return null;
}

export async function register(
	db: Db,
	classId: string,
	userId: string,
	now = new Date()
): Promise<RegistrationOutcome> {
	return db.$transaction(async (tx) => {
		const cls = await lockClass(tx, classId);
		if (!cls) return { ok: false, reason: 'class_not_found' };
		const refusal = registrationWindowRefusal(cls, now);
		if (refusal) return { ok: false, reason: refusal };

		// One statement for the seat: the insert yields nothing when the user
		// already holds an active registration (the partial unique index), and
		// the counter moves only with a confirmed insert. Fewer round trips
		// matter here: every registration for the class queues on its lock.
		const seatFree = cls.confirmedCount < cls.capacity;
		const status = seatFree ? 'CONFIRMED' : 'WAITLISTED';
		const inserted = await tx.$queryRaw<{ id: string }[]>`
			WITH created AS (
				INSERT INTO registration (id, class_id, user_id, status, confirmed_at, waitlisted_at)
				VALUES (gen_random_uuid()::text, ${classId}, ${userId}, ${status}::"RegistrationStatus",
				        ${seatFree ? now.toISOString() : null}::timestamp,
				        ${seatFree ? null : now.toISOString()}::timestamp)
				ON CONFLICT (class_id, user_id) WHERE status <> 'CANCELLED' DO NOTHING
				RETURNING id
			), counted AS (
				UPDATE policy_class SET confirmed_count = confirmed_count + 1
				WHERE id = ${classId} AND ${seatFree} AND EXISTS (SELECT 1 FROM created)
			)
			SELECT id FROM created`;
		const created = inserted[0];
		if (!created) return { ok: false, reason: 'already_registered' };
		return {
			ok: true,
			registrationId: created.id,
			status: seatFree ? 'CONFIRMED' : 'WAITLISTED'
		};
	});
}

/** Fill free seats from the head of the waitlist. The class row must be locked. */
async function promoteWaitlisted(tx: Tx, classId: string, freeSeats: number, now: Date) {
	if (freeSeats <= 0) return [];
	const next = await tx.registration.findMany({
		where: { classId, status: 'WAITLISTED' },
		orderBy: { seq: 'asc' },
		take: freeSeats,
		select: { id: true }
	});
	if (next.length === 0) return [];
	const ids = next.map((r) => r.id);
	await tx.registration.updateMany({
		where: { id: { in: ids } },
		data: { status: 'CONFIRMED', confirmedAt: now }
	});
	await tx.policyClass.update({
		where: { id: classId },
		data: { confirmedCount: { increment: ids.length } }
	});
	return ids;
}

export async function cancelRegistration(
	db: Db,
	classId: string,
	userId: string,
	now = new Date()
): Promise<CancellationOutcome> {
	return db.$transaction(async (tx) => {
		const cls = await lockClass(tx, classId);
		if (!cls) return { ok: false, reason: 'class_not_found' };
		const active = await tx.registration.findFirst({
			where: { classId, userId, status: { not: 'CANCELLED' } },
			select: { id: true, status: true }
		});
		if (!active) return { ok: false, reason: 'not_registered' };

		await tx.registration.update({
			where: { id: active.id },
			data: { status: 'CANCELLED', cancelledAt: now }
		});
		if (active.status !== 'CONFIRMED') return { ok: true, promotedRegistrationIds: [] };

		await tx.policyClass.update({
			where: { id: classId },
			data: { confirmedCount: { decrement: 1 } }
		});
		// Nobody moves up into a class that no longer runs.
		if (cls.status === 'CANCELLED' || cls.status === 'ENDED') {
			return { ok: true, promotedRegistrationIds: [] };
		}
		const promoted = await promoteWaitlisted(tx, classId, 1, now);
		return { ok: true, promotedRegistrationIds: promoted };
	});
}

export type CapacityOutcome =
	| { ok: true; promotedRegistrationIds: string[] }
	| { ok: false; reason: 'class_not_found' | 'below_confirmed'; confirmedCount?: number };

/**
 * Change a class's capacity; more seats promote from the waitlist at once.
 * The rest of an edit (`details`) is written in the same transaction, so an
 * edit saves whole or, when the capacity is refused, not at all.
 */
export async function changeCapacity(
	db: Db,
	classId: string,
	capacity: number,
	{ details, now = new Date() }: { details?: ClassDetails; now?: Date } = {}
): Promise<CapacityOutcome> {
	return db.$transaction(async (tx) => {
		const cls = await lockClass(tx, classId);
		if (!cls) return { ok: false, reason: 'class_not_found' };
		if (capacity < cls.confirmedCount) {
			return { ok: false, reason: 'below_confirmed', confirmedCount: cls.confirmedCount };
		}
		await tx.policyClass.update({ where: { id: classId }, data: { ...details, capacity } });
		const promoted =
			cls.status === 'SCHEDULED' || cls.status === 'LIVE'
				? await promoteWaitlisted(tx, classId, capacity - cls.confirmedCount, now)
				: [];
		return { ok: true, promotedRegistrationIds: promoted };
	});
}

/** Cancel a class. Registrations stay, so registrants see the notice on "my classes". */
export async function cancelClass(
	db: Db,
	classId: string,
	reason: string,
	now = new Date()
): Promise<boolean> {
	const { count } = await db.policyClass.updateMany({
		where: { id: classId, status: { in: ['SCHEDULED', 'LIVE'] } },
		data: { status: 'CANCELLED', cancelReason: reason, cancelledAt: now }
	});
	return count === 1;
}
