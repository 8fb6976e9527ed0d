import { randomUUID } from 'node:crypto';
import { recordAudit, type AuditEntryInput } from './audit.ts';
import { GroupCommit } from './group-commit.ts';
import type { ClassDetails } from './classes.ts';
import type { Db } from './db/client.ts';
import type { ClassStatus, RegistrationStatus } from './db/generated/enums.ts';
import type { EventBus } from './events.ts';

/**
 * Registration rules. Every change to a class's seats happens inside a
 * transaction that first locks the class row, so concurrent registrations and
 * cancellations for one class run one after another: capacity holds and the
 * waitlist keeps arrival order. The database backs this up with a CHECK on
 * confirmed_count and a partial unique index on active registrations.
 *
 * 爱心专座 (reserved seats): staff may hold some of a class's seats for 爱心通道
 * registrants (app_user.priority_service) until a release time. Until then
 * the class has two pools: the reserved seats, which only priority
 * registrants take, and the general seats, which everyone takes. A priority
 * registrant takes a reserved seat first, so general seats stay for the
 * others, and a general one once the reserved seats are full. There is one
 * waitlist, in arrival order: a freed reserved seat goes to its first
 * priority registrant, a freed general seat to its first registrant. At the
 * release time, once, the reserved seats still free go to the waitlist in its
 * order; the release is made by whichever transaction on the class comes
 * first after that time (under the class lock), or by the periodic sweep
 * (Registrations.start). CHECKs on the counters back the pools up.
 */

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

type LockedClass = {
	id: string;
	title: string;
	capacity: number;
	confirmedCount: number;
	status: ClassStatus;
	opensAt: Date;
	closesAt: Date;
	startsAt: Date;
	durationMinutes: number;
	instructorId: string;
	reservedSeats: number;
	reservedConfirmedCount: number;
	/** As stored: null is the default, RESERVED_RELEASE_LEAD_MS before the start. */
	reservedReleaseAt: Date | null;
	reservedReleasedAt: Date | null;
};

type Promoted = { registrationIds: string[]; userIds: string[] };
const NOBODY: Promoted = { registrationIds: [], userIds: [] };

/** By default the reserved seats open to everyone 24 hours before the start. */
const RESERVED_RELEASE_LEAD_MS = 24 * 3600_000;

type SeatCounts = Pick<
	LockedClass,
	| 'capacity'
	| 'confirmedCount'
	| 'reservedSeats'
	| 'reservedConfirmedCount'
	| 'reservedReleaseAt'
	| 'reservedReleasedAt'
	| 'startsAt'
>;

/** When a class's reserved seats open to everyone. */
function reservedReleaseTime(cls: Pick<SeatCounts, 'reservedReleaseAt' | 'startsAt'>): Date {
	return cls.reservedReleaseAt ?? new Date(cls.startsAt.getTime() - RESERVED_RELEASE_LEAD_MS);
}

/** Whether the class still holds seats for priority registrants (not released yet). */
function holdsReserved(cls: SeatCounts): boolean {
	return cls.reservedSeats > 0 && cls.reservedReleasedAt === null;
}

/** Free seats in each pool; once released (or with none reserved), every seat is general. */
export function freeSeats(cls: SeatCounts): { reserved: number; general: number } {
	if (!holdsReserved(cls))
		return { reserved: 0, general: Math.max(0, cls.capacity - cls.confirmedCount) };
	const general =
		cls.capacity - cls.reservedSeats - (cls.confirmedCount - cls.reservedConfirmedCount);
	return {
		reserved: Math.max(0, cls.reservedSeats - cls.reservedConfirmedCount),
		general: Math.max(0, general)
	};
}

/** The reserved seats as people see them at `now`: still held, or (null) open to everyone. */
export function reservedSeatsOpen(
	cls: SeatCounts,
	now: Date
): { left: number; releaseAt: Date } | null {
	const releaseAt = reservedReleaseTime(cls);
	if (!holdsReserved(cls) || now >= releaseAt) return null;
	return { left: freeSeats(cls).reserved, releaseAt };
}

function releaseDue(cls: LockedClass, now: Date): boolean {
	return (
		(cls.status === 'SCHEDULED' || cls.status === 'LIVE') &&
		holdsReserved(cls) &&
		now >= reservedReleaseTime(cls)
	);
}

export type RegistrationRefusal =
	| 'class_not_found'
	| 'not_open_yet'
	| 'registration_closed'
	| 'class_cancelled'
	| 'class_ended'
	| 'already_registered'
	| 'not_registered'
	| 'cancellation_closed';

export type RegistrationOutcome =
	| { ok: true; registrationId: string; status: Exclude<RegistrationStatus, 'CANCELLED'> }
	| { ok: false; reason: RegistrationRefusal };

export type CancellationOutcome =
	| { ok: true; promotedRegistrationIds: string[]; promotedUserIds: string[] }
	| { ok: false; reason: RegistrationRefusal };

async function lockClass(tx: Tx, classId: string): Promise<LockedClass | null> {
	const rows = await tx.$queryRaw<LockedClass[]>`
		SELECT id, title, capacity, confirmed_count AS "confirmedCount", status::text AS status,
		       registration_opens_at AS "opensAt", registration_closes_at AS "closesAt",
		       starts_at AS "startsAt", duration_minutes AS "durationMinutes",
		       instructor_id AS "instructorId", reserved_seats AS "reservedSeats",
		       reserved_confirmed_count AS "reservedConfirmedCount",
		       reserved_release_at AS "reservedReleaseAt", reserved_released_at AS "reservedReleasedAt"
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

export type RegistrationRequest = { userId: string; now: Date };

export type BatchResult = {
	outcomes: RegistrationOutcome[];
	/** Waitlisted registrants seated by a release of reserved seats that fell due. */
	promoted: Promoted;
};

/**
 * Decide a batch of registrations for one class in one transaction, in the
 * order given (arrival order): seats to the first, the waitlist for the rest.
 * A reserved-seat release that has fallen due is made first, so the waitlist
 * (earlier arrivals) is seated before the batch. One statement inserts them
 * all: a user who already holds an active registration (or appears twice)
 * gets no row, and the counters move by the seats actually taken. The class
 * row lock orders batches from every process; the CHECKs on the counters and
 * the partial unique index are the backstop.
 */
export async function registerBatch(
	db: Db,
	classId: string,
	requests: RegistrationRequest[]
): Promise<BatchResult> {
	return db.$transaction(async (tx) => {
		const locked = await lockClass(tx, classId);
		if (!locked) {
			return {
				outcomes: requests.map(() => ({ ok: false, reason: 'class_not_found' }) as const),
				promoted: NOBODY
			};
		}
		let cls = locked;
		const latest = new Date(Math.max(...requests.map((r) => r.now.getTime())));
		let promoted = NOBODY;
		if (releaseDue(cls, latest)) {
			promoted = await settleSeats(tx, classId, latest);
			cls = (await lockClass(tx, classId))!;
		}
		const refusals = requests.map((r) => registrationWindowRefusal(cls, r.now));
		const admitted = requests
			.map((r, i) => ({ ...r, id: randomUUID(), index: i }))
			.filter((r) => refusals[r.index] === null);
		const created = new Map<string, 'CONFIRMED' | 'WAITLISTED'>();
		if (admitted.length > 0) {
			const free = freeSeats(cls);
			// Priority registrants take reserved seats in arrival order; everyone
			// else, and priority registrants past the reserved seats, the general
			// ones in arrival order: the same as deciding them one by one.
			const rows = await tx.$queryRaw<{ id: string; status: 'CONFIRMED' | 'WAITLISTED' }[]>`
				WITH input AS (
					SELECT * FROM unnest(
						${admitted.map((r) => r.userId)}::text[],
						${admitted.map((r) => r.id)}::text[],
						${admitted.map((r) => r.now.toISOString())}::timestamp[]
					) WITH ORDINALITY AS i(user_id, id, at, ord)
				), fresh AS (
					SELECT DISTINCT ON (i.user_id) i.user_id, i.id, i.at, i.ord,
						COALESCE(u.priority_service, false) AS priority
					FROM input i LEFT JOIN app_user u ON u.id = i.user_id
					WHERE NOT EXISTS (
						SELECT 1 FROM registration r
						WHERE r.class_id = ${classId} AND r.user_id = i.user_id AND r.status <> 'CANCELLED'
					)
					ORDER BY i.user_id, i.ord
				), pooled AS (
					SELECT user_id, id, at, ord,
						priority AND row_number() OVER (PARTITION BY priority ORDER BY ord) <= ${free.reserved}
							AS reserved
					FROM fresh
				), ranked AS (
					SELECT user_id, id, at, ord, reserved,
						reserved OR row_number() OVER (PARTITION BY reserved ORDER BY ord) <= ${free.general}
							AS seated
					FROM pooled
				), created AS (
					INSERT INTO registration
						(id, class_id, user_id, status, confirmed_at, waitlisted_at, created_at, reserved_seat)
					SELECT id, ${classId}, user_id,
						(CASE WHEN seated THEN 'CONFIRMED' ELSE 'WAITLISTED' END)::"RegistrationStatus",
						CASE WHEN seated THEN at END,
						CASE WHEN seated THEN NULL ELSE at END,
						at, reserved
					FROM ranked ORDER BY ord
					ON CONFLICT (class_id, user_id) WHERE status <> 'CANCELLED' DO NOTHING
					RETURNING id, status, reserved_seat
				), counted AS (
					UPDATE policy_class
					SET confirmed_count = confirmed_count
							+ (SELECT count(*) FROM created WHERE status = 'CONFIRMED'),
						reserved_confirmed_count = reserved_confirmed_count
							+ (SELECT count(*) FROM created WHERE reserved_seat)
					WHERE id = ${classId}
				)
				SELECT id, status::text AS status FROM created`;
			for (const row of rows) created.set(row.id, row.status);
		}
		const ids = new Map(admitted.map((r) => [r.index, r.id]));
		const outcomes = requests.map((_, i): RegistrationOutcome => {
			const refusal = refusals[i];
			if (refusal) return { ok: false, reason: refusal };
			const id = ids.get(i)!;
			const status = created.get(id);
			return status
				? { ok: true, registrationId: id, status }
				: { ok: false, reason: 'already_registered' };
		});
		return { outcomes, promoted };
	});
}

/**
 * One registration, decided on its own (the allocator batches concurrent ones).
 * Promotions by a release it makes are not announced: Registrations does that.
 */
export async function register(
	db: Db,
	classId: string,
	userId: string,
	now = new Date()
): Promise<RegistrationOutcome> {
	const { outcomes } = await registerBatch(db, classId, [{ userId, now }]);
	return outcomes[0]!;
}

/** A request the fallback could not decide: its error, for that request alone. */
type Failed = { failed: unknown };

export type AllocatorOptions = {
	windowMs?: number;
	maxBatch?: number;
	/** Announces registrants a batch's reserved-seat release seated. */
	onPromoted?: (classId: string, userIds: string[]) => Promise<void>;
};

/**
 * Group commit for the hottest row: registrations for one class wait in an
 * arrival-ordered queue, and whatever arrived while the previous batch was
 * being decided (or within `windowMs` of the first) is decided together by
 * registerBatch, in arrival order. Under a burst one transaction serves
 * hundreds of requests instead of each queueing on the class lock. Several
 * processes each batch their own arrivals; the database decides between them.
 */
export class RegistrationAllocator {
	readonly options: Required<Omit<AllocatorOptions, 'onPromoted'>> &
		Pick<AllocatorOptions, 'onPromoted'>;
	readonly #batches: GroupCommit<RegistrationRequest, RegistrationOutcome | Failed>;

	constructor(
		readonly db: Db,
		options: AllocatorOptions = {}
	) {
		this.options = { windowMs: 2, maxBatch: 1000, ...options };
		this.#batches = new GroupCommit((classId, requests) => this.#decide(classId, requests), {
			maxBatch: this.options.maxBatch,
			windowMs: this.options.windowMs
		});
	}

	async register(classId: string, userId: string, now = new Date()): Promise<RegistrationOutcome> {
		const outcome = await this.#batches.add(classId, { userId, now });
		if ('failed' in outcome) throw outcome.failed;
		return outcome;
	}

	async #decide(
		classId: string,
		requests: RegistrationRequest[]
	): Promise<(RegistrationOutcome | Failed)[]> {
		try {
			const { outcomes, promoted } = await registerBatch(this.db, classId, requests);
			await this.#announce(classId, promoted);
			return outcomes;
		} catch {
			// One bad request (a user removed meanwhile) must not fail the others:
			// decide each on its own, in the same order.
			const outcomes: (RegistrationOutcome | Failed)[] = [];
			for (const request of requests) {
				try {
					const { outcomes: one, promoted } = await registerBatch(this.db, classId, [request]);
					await this.#announce(classId, promoted);
					outcomes.push(one[0]!);
				} catch (failed) {
					outcomes.push({ failed });
				}
			}
			return outcomes;
		}
	}

	async #announce(classId: string, promoted: Promoted): Promise<void> {
		if (promoted.userIds.length === 0 || !this.options.onPromoted) return;
		// The seats are committed; a failed announcement must not fail the registrations.
		await this.options.onPromoted(classId, promoted.userIds).catch((error) => {
			console.error('[registration] could not announce promotions', error);
		});
	}
}

/**
 * Give free seats to the waitlist, in its order: free reserved seats to the
 * first priority registrants, then free general seats to the first of the
 * rest. `cls` holds the current counters; the class row must be locked.
 */
async function fillSeats(tx: Tx, cls: LockedClass, now: Date): Promise<Promoted> {
	const free = freeSeats(cls);
	if (free.reserved + free.general === 0) return NOBODY;
	const rows = await tx.$queryRaw<{ id: string; userId: string }[]>`
		WITH waiting AS (
			SELECT r.id, r.seq, u.priority_service AS priority
			FROM registration r JOIN app_user u ON u.id = r.user_id
			WHERE r.class_id = ${cls.id} AND r.status = 'WAITLISTED'
		), reserved AS (
			SELECT id FROM waiting WHERE priority ORDER BY seq LIMIT ${free.reserved}
		), general AS (
			SELECT id FROM waiting WHERE id NOT IN (SELECT id FROM reserved)
			ORDER BY seq LIMIT ${free.general}
		), promoted AS (
			UPDATE registration r
			SET status = 'CONFIRMED', confirmed_at = ${now},
				reserved_seat = r.id IN (SELECT id FROM reserved)
			WHERE r.id IN (SELECT id FROM reserved UNION ALL SELECT id FROM general)
			RETURNING r.id, r.user_id, r.seq, r.reserved_seat
		), counted AS (
			UPDATE policy_class
			SET confirmed_count = confirmed_count + (SELECT count(*) FROM promoted),
				reserved_confirmed_count = reserved_confirmed_count
					+ (SELECT count(*) FROM promoted WHERE reserved_seat)
			WHERE id = ${cls.id}
		)
		SELECT id, user_id AS "userId" FROM promoted ORDER BY seq`;
	return { registrationIds: rows.map((r) => r.id), userIds: rows.map((r) => r.userId) };
}

/**
 * Bring a class's seats up to date at `now`: release the reserved seats if
 * that is due (once: reserved_released_at marks it), then fill free seats
 * from the waitlist. The class row must be locked by this transaction.
 */
async function settleSeats(tx: Tx, classId: string, now: Date): Promise<Promoted> {
	const cls = await lockClass(tx, classId);
	if (!cls || (cls.status !== 'SCHEDULED' && cls.status !== 'LIVE')) return NOBODY;
	if (releaseDue(cls, now)) {
		await tx.$executeRaw`UPDATE policy_class SET reserved_released_at = ${now} WHERE id = ${classId}`;
		cls.reservedReleasedAt = now;
	}
	return fillSeats(tx, cls, now);
}

/**
 * Release the reserved seats of every class whose release time has come:
 * the periodic sweep, for classes nobody registers for or cancels at then.
 * Each class in its own transaction under its lock, so several processes
 * sweeping at once release each class once.
 */
export async function releaseReservedSeats(
	db: Db,
	now = new Date()
): Promise<{ classId: string; promoted: Promoted }[]> {
	const due = await db.$queryRaw<{ id: string }[]>`
		SELECT id FROM policy_class
		WHERE reserved_seats > 0 AND reserved_released_at IS NULL
		  AND status IN ('SCHEDULED', 'LIVE')
		  AND (reserved_release_at <= ${now}
		       OR (reserved_release_at IS NULL
		           AND starts_at <= ${new Date(now.getTime() + RESERVED_RELEASE_LEAD_MS)}))`;
	const released: { classId: string; promoted: Promoted }[] = [];
	for (const { id } of due) {
		const promoted = await db.$transaction(async (tx) => {
			const cls = await lockClass(tx, id);
			return cls && releaseDue(cls, now) ? settleSeats(tx, id, now) : null;
		});
		if (promoted) released.push({ classId: id, promoted });
	}
	return released;
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
		if (cls.status === 'CANCELLED') return { ok: false, reason: 'class_cancelled' };
		// From the start on, a seat is attendance on record; it can no longer be given back.
		if (cls.status !== 'SCHEDULED' || now >= cls.startsAt) {
			return { ok: false, reason: 'cancellation_closed' };
		}
		const active = await tx.registration.findFirst({
			where: { classId, userId, status: { not: 'CANCELLED' } },
			select: { id: true, status: true, reservedSeat: true }
		});
		if (!active) return { ok: false, reason: 'not_registered' };

		await tx.registration.update({
			where: { id: active.id },
			data: { status: 'CANCELLED', cancelledAt: now }
		});
		if (active.status === 'CONFIRMED') {
			await tx.policyClass.update({
				where: { id: classId },
				data: {
					confirmedCount: { decrement: 1 },
					...(active.reservedSeat ? { reservedConfirmedCount: { decrement: 1 } } : {})
				}
			});
		}
		// The freed seat, in its pool, and a release that fell due, go to the waitlist.
		const promoted = await settleSeats(tx, classId, now);
		return {
			ok: true,
			promotedRegistrationIds: promoted.registrationIds,
			promotedUserIds: promoted.userIds
		};
	});
}

export type CapacityOutcome =
	| {
			ok: true;
			promotedRegistrationIds: string[];
			promotedUserIds: string[];
			/** The class as it was before the change. */
			previous: Pick<LockedClass, 'startsAt' | 'durationMinutes' | 'instructorId'>;
	  }
	| { ok: false; reason: 'class_not_found' }
	| { ok: false; reason: 'below_confirmed'; confirmedCount: number }
	/** More reserved seats than the seats general registrants have not taken. */
	| { ok: false; reason: 'reserved_over_free'; reservedMax: number }
	/** The reserved seats were released: no more of them, and no other release time. */
	| { ok: false; reason: 'reserved_released' };

const sameTime = (a: Date | null, b: Date | null) =>
	(a?.getTime() ?? null) === (b?.getTime() ?? null);

/**
 * Change a class's capacity and reserved seats (`details.reservedSeats` and
 * `reservedReleaseAt`); seats that become free promote from the waitlist at
 * once. The rest of an edit (`details`) and its audit entry are written in the
 * same transaction, so an edit saves whole or, when the seats are refused, not
 * at all. Only the class lifecycle edits classes; it announces what changed.
 */
export async function changeCapacity(
	db: Db,
	classId: string,
	capacity: number,
	{
		details,
		now = new Date(),
		audit
	}: {
		details?: ClassDetails;
		now?: Date;
		audit?: Pick<AuditEntryInput, 'actor' | 'action'>;
	} = {}
): Promise<CapacityOutcome> {
	return db.$transaction(async (tx) => {
		const cls = await lockClass(tx, classId);
		if (!cls) return { ok: false, reason: 'class_not_found' };
		if (capacity < cls.confirmedCount) {
			return { ok: false, reason: 'below_confirmed', confirmedCount: cls.confirmedCount };
		}
		const reservedSeats = details?.reservedSeats ?? cls.reservedSeats;
		const reservedReleaseAt = details ? details.reservedReleaseAt : cls.reservedReleaseAt;
		// Once released, the reserved seats are everyone's: their number may only
		// go down (as far as the capacity needs) and the release stays where it was.
		const released = cls.reservedReleasedAt !== null || releaseDue(cls, now);
		if (
			released &&
			(reservedSeats > cls.reservedSeats || !sameTime(reservedReleaseAt, cls.reservedReleaseAt))
		) {
			return { ok: false, reason: 'reserved_released' };
		}
		// Fewer reserved seats than holders: the latest holders' seats count as
		// general ones, which always fit (every confirmed seat is within capacity).
		const keptHolders = Math.min(cls.reservedConfirmedCount, reservedSeats);
		if (!released && cls.confirmedCount - keptHolders > capacity - reservedSeats) {
			const reservedMax = capacity - cls.confirmedCount + cls.reservedConfirmedCount;
			return { ok: false, reason: 'reserved_over_free', reservedMax };
		}
		if (keptHolders < cls.reservedConfirmedCount) {
			await tx.$executeRaw`
				UPDATE registration SET reserved_seat = false WHERE id IN (
					SELECT id FROM registration
					WHERE class_id = ${classId} AND status = 'CONFIRMED' AND reserved_seat
					ORDER BY seq DESC LIMIT ${cls.reservedConfirmedCount - keptHolders})`;
		}
		await tx.policyClass.update({
			where: { id: classId },
			data: {
				...details,
				capacity,
				reservedSeats,
				reservedReleaseAt,
				reservedConfirmedCount: keptHolders
			}
		});
		const promoted = await settleSeats(tx, classId, now);
		if (audit) {
			await recordAudit(tx, {
				...audit,
				target: { type: 'class', id: classId, label: details?.title ?? cls.title },
				classId,
				details: { capacity, previousCapacity: cls.capacity },
				at: now
			});
		}
		return {
			ok: true,
			promotedRegistrationIds: promoted.registrationIds,
			promotedUserIds: promoted.userIds,
			previous: {
				startsAt: cls.startsAt,
				durationMinutes: cls.durationMinutes,
				instructorId: cls.instructorId
			}
		};
	});
}

/**
 * The registration rules above with the access changes they cause announced,
 * so open Q&A and player connections follow at once (a promoted viewer starts
 * watching without a reload, a cancelled one stops).
 */
export class Registrations {
	readonly #allocator: RegistrationAllocator;
	readonly #sweepMs: number;
	#sweep: ReturnType<typeof setInterval> | null = null;

	constructor(
		readonly db: Db,
		readonly events: EventBus,
		options: { sweepMs?: number } = {}
	) {
		this.#allocator = new RegistrationAllocator(db, {
			onPromoted: (classId, userIds) => this.announcePromotions(classId, userIds)
		});
		this.#sweepMs = options.sweepMs ?? 60_000;
	}

	async register(classId: string, userId: string, now = new Date()) {
		const outcome = await this.#allocator.register(classId, userId, now);
		if (outcome.ok) {
			await this.events.publish('access.changed', { userId, classId, reason: 'registered' });
		}
		return outcome;
	}

	async cancel(classId: string, userId: string, now = new Date()) {
		const outcome = await cancelRegistration(this.db, classId, userId, now);
		if (outcome.ok) {
			await this.events.publish('access.changed', {
				userId,
				classId,
				reason: 'registration_cancelled'
			});
			await this.announcePromotions(classId, outcome.promotedUserIds);
		}
		return outcome;
	}

	/** Release the reserved seats that are due and announce who they seated. */
	async releaseReservedSeats(now = new Date()): Promise<void> {
		for (const { classId, promoted } of await releaseReservedSeats(this.db, now)) {
			await this.announcePromotions(classId, promoted.userIds);
		}
	}

	/**
	 * The release sweep, every process: a class nobody registers for or cancels
	 * at its release time is released within `sweepMs`. Stopped by platform.stop.
	 */
	start(): void {
		if (this.#sweep) return;
		const sweep = () =>
			this.releaseReservedSeats().catch((error) => {
				console.error('[registration] reserved seat release failed', error);
			});
		void sweep();
		this.#sweep = setInterval(() => void sweep(), this.#sweepMs);
		this.#sweep.unref();
	}

	stop(): void {
		if (this.#sweep) clearInterval(this.#sweep);
		this.#sweep = null;
	}

	async announcePromotions(classId: string, userIds: string[]): Promise<void> {
		for (const userId of userIds) {
			await this.events.publish('access.changed', { userId, classId, reason: 'promoted' });
		}
	}
}
