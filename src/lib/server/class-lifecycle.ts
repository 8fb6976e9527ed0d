import { recordAudit } from './audit.ts';
import type { SessionUser } from './auth/session.ts';
import { classAccess, databaseFacts, may, type AccessFactsSource } from './class-access.ts';
import type { ClassDetails } from './classes.ts';
import type { Db } from './db/client.ts';
import type { ClassStatus } from './db/generated/enums.ts';
import type { ClassLifecycleEvent, EventBus } from './events.ts';
import { changeCapacity, type Registrations } from './registration.ts';

/**
 * The one place a class's status changes: scheduled, live, ended, cancelled,
 * and the edits that move or hand over a class. Each committed change emits
 * one 'class.lifecycle' event; media, the recorder, Q&A, reminders and the
 * pages subscribe to it. Nothing else writes policy_class.status.
 */

export type LifecycleRefusal = 'not_found' | 'forbidden' | 'bad_state';

export type TransitionResult =
	{ ok: true; status: ClassStatus; changed: boolean } | { ok: false; reason: LifecycleRefusal };

export type EditOutcome =
	| { ok: true }
	| { ok: false; reason: LifecycleRefusal | 'instructor_invalid' }
	| { ok: false; reason: 'below_confirmed'; confirmedCount: number }
	| { ok: false; reason: 'reserved_over_free'; reservedMax: number }
	| { ok: false; reason: 'reserved_released' };

export type InterpreterOutcome =
	| { ok: true; changed: boolean }
	| { ok: false; reason: LifecycleRefusal | 'interpreter_unknown' | 'interpreter_is_instructor' };

export type ScheduleOutcome =
	{ ok: true; classId: string } | { ok: false; reason: 'instructor_invalid' };

type Actor = Pick<SessionUser, 'id' | 'role' | 'displayName'>;

/** Instructors and admins present classes; anyone else named as instructor is refused. */
async function isInstructorAccount(db: Db, userId: string): Promise<boolean> {
	const count = await db.user.count({
		where: { id: userId, role: { in: ['INSTRUCTOR', 'ADMIN'] }, disabledAt: null }
	});
	return count === 1;
}

export class ClassLifecycle {
	/** Decisions that write read their facts fresh, never from a cache. */
	readonly #facts: AccessFactsSource;

	constructor(
		readonly db: Db,
		readonly events: EventBus,
		readonly registrations: Registrations
	) {
		this.#facts = databaseFacts(db);
	}

	async #publish(event: ClassLifecycleEvent): Promise<void> {
		await this.events.publish('class.lifecycle', event);
	}

	/** A new class, SCHEDULED. */
	async schedule(actor: Actor, details: ClassDetails, capacity: number): Promise<ScheduleOutcome> {
		if (!(await isInstructorAccount(this.db, details.instructorId))) {
			return { ok: false, reason: 'instructor_invalid' };
		}
		const created = await this.db.$transaction(async (tx) => {
			const cls = await tx.policyClass.create({
				data: { ...details, capacity },
				select: { id: true }
			});
			await recordAudit(tx, {
				actor,
				action: 'class.created',
				target: { type: 'class', id: cls.id, label: details.title },
				classId: cls.id
			});
			return cls;
		});
		return { ok: true, classId: created.id };
	}

	/** SCHEDULED → LIVE, by the class's presenter. */
	async goLive(classId: string, actor: Actor, now = new Date()): Promise<TransitionResult> {
		const access = await classAccess(this.#facts, actor, classId);
		if (!access) return { ok: false, reason: 'not_found' };
		if (!may.present(access)) return { ok: false, reason: 'forbidden' };
		if (access.status === 'LIVE') return { ok: true, status: 'LIVE', changed: false };
		const { count } = await this.db.policyClass.updateMany({
			where: { id: classId, status: 'SCHEDULED' },
			data: { status: 'LIVE', wentLiveAt: now }
		});
		if (count === 0) return this.#unchanged(classId, 'LIVE');
		await this.#publish({
			type: 'live',
			classId,
			actorId: actor.id,
			wentLiveAt: now.toISOString()
		});
		return { ok: true, status: 'LIVE', changed: true };
	}

	/** LIVE → ENDED, by the class's presenter. */
	async end(classId: string, actor: Actor, now = new Date()): Promise<TransitionResult> {
		const access = await classAccess(this.#facts, actor, classId);
		if (!access) return { ok: false, reason: 'not_found' };
		if (access.status === 'ENDED') return { ok: true, status: 'ENDED', changed: false };
		if (!may.present(access)) return { ok: false, reason: 'forbidden' };
		const rows = await this.db.$queryRaw<{ went_live_at: Date | null }[]>`
			UPDATE policy_class SET status = 'ENDED', ended_at = ${now}, updated_at = ${now}
			WHERE id = ${classId} AND status = 'LIVE'
			RETURNING went_live_at`;
		const row = rows[0];
		if (!row) return this.#unchanged(classId, 'ENDED');
		await this.#publish({
			type: 'ended',
			classId,
			actorId: actor.id,
			wentLiveAt: row.went_live_at ? new Date(row.went_live_at).toISOString() : null,
			endedAt: now.toISOString()
		});
		return { ok: true, status: 'ENDED', changed: true };
	}

	/**
	 * Cancel a class that is scheduled or being broadcast. Registrations stay,
	 * so registrants see the notice on "my classes".
	 */
	async cancel(
		classId: string,
		actor: Actor,
		reason: string,
		now = new Date()
	): Promise<TransitionResult> {
		const access = await classAccess(this.#facts, actor, classId);
		if (!access) return { ok: false, reason: 'not_found' };
		if (!may.manage(access)) return { ok: false, reason: 'forbidden' };
		const previous = await this.db.$transaction(async (tx) => {
			const rows = await tx.$queryRaw<{ status: ClassStatus; title: string }[]>`
				SELECT status::text AS status, title FROM policy_class WHERE id = ${classId} FOR UPDATE`;
			const row = rows[0];
			if (!row || (row.status !== 'SCHEDULED' && row.status !== 'LIVE')) return null;
			await tx.policyClass.update({
				where: { id: classId },
				data: { status: 'CANCELLED', cancelReason: reason, cancelledAt: now }
			});
			await recordAudit(tx, {
				actor,
				action: 'class.cancelled',
				target: { type: 'class', id: classId, label: row.title },
				classId,
				details: { reason, wasLive: row.status === 'LIVE' },
				at: now
			});
			return row;
		});
		if (!previous) return this.#unchanged(classId, 'CANCELLED');
		await this.#publish({
			type: 'cancelled',
			classId,
			actorId: actor.id,
			reason,
			cancelledAt: now.toISOString(),
			wasLive: previous.status === 'LIVE'
		});
		return { ok: true, status: 'CANCELLED', changed: true };
	}

	/**
	 * Save an edit: details, capacity and reserved seats in one transaction
	 * under the seat rules (refused seats save nothing). A new start time or a new
	 * instructor is announced as 'rescheduled' / 'reassigned'.
	 */
	async edit(
		classId: string,
		actor: Actor,
		details: ClassDetails,
		capacity: number,
		now = new Date()
	): Promise<EditOutcome> {
		const access = await classAccess(this.#facts, actor, classId);
		if (!access) return { ok: false, reason: 'not_found' };
		if (!may.manage(access)) return { ok: false, reason: 'forbidden' };
		if (access.status !== 'SCHEDULED' && access.status !== 'LIVE') {
			return { ok: false, reason: 'bad_state' };
		}
		if (!(await isInstructorAccount(this.db, details.instructorId))) {
			return { ok: false, reason: 'instructor_invalid' };
		}
		const outcome = await changeCapacity(this.db, classId, capacity, {
			details,
			now,
			audit: { actor, action: 'class.edited' }
		});
		if (!outcome.ok) {
			if (outcome.reason === 'class_not_found') return { ok: false, reason: 'not_found' };
			return outcome;
		}
		const before = outcome.previous;
		if (
			before.startsAt.getTime() !== details.startsAt.getTime() ||
			before.durationMinutes !== details.durationMinutes
		) {
			await this.#publish({
				type: 'rescheduled',
				classId,
				actorId: actor.id,
				startsAt: details.startsAt.toISOString(),
				previousStartsAt: before.startsAt.toISOString(),
				durationMinutes: details.durationMinutes
			});
		}
		if (before.instructorId !== details.instructorId) {
			await this.#publish({
				type: 'reassigned',
				classId,
				actorId: actor.id,
				instructorId: details.instructorId,
				previousInstructorId: before.instructorId
			});
			for (const userId of [before.instructorId, details.instructorId]) {
				await this.events.publish('access.changed', { userId, classId, reason: 'reassigned' });
			}
		}
		await this.registrations.announcePromotions(classId, outcome.promotedUserIds);
		return { ok: true };
	}

	/**
	 * Assign the class's sign-language interpreter (null: none): any active
	 * account other than the instructor. Like handing the class to another
	 * instructor, the previous interpreter loses the studio at once.
	 */
	async assignInterpreter(
		classId: string,
		actor: Actor,
		interpreterId: string | null
	): Promise<InterpreterOutcome> {
		const access = await classAccess(this.#facts, actor, classId);
		if (!access) return { ok: false, reason: 'not_found' };
		if (!may.manage(access)) return { ok: false, reason: 'forbidden' };
		if (access.status !== 'SCHEDULED' && access.status !== 'LIVE') {
			return { ok: false, reason: 'bad_state' };
		}
		const interpreter = interpreterId
			? await this.db.user.findFirst({
					where: { id: interpreterId, disabledAt: null },
					select: { id: true, displayName: true }
				})
			: null;
		if (interpreterId && !interpreter) return { ok: false, reason: 'interpreter_unknown' };
		// Read and written in one transaction, so the audit names the true predecessor.
		const before = await this.db.$transaction(async (tx) => {
			const cls = await tx.policyClass.findUnique({
				where: { id: classId },
				select: { title: true, instructorId: true, interpreterId: true }
			});
			const refused = cls?.instructorId === interpreterId;
			if (!cls || refused || cls.interpreterId === interpreterId) return cls;
			await tx.policyClass.update({ where: { id: classId }, data: { interpreterId } });
			await recordAudit(tx, {
				actor,
				action: 'class.interpreter_assigned',
				target: { type: 'class', id: classId, label: cls.title },
				classId,
				details: {
					interpreterId,
					interpreterName: interpreter?.displayName ?? null,
					previousInterpreterId: cls.interpreterId
				}
			});
			return cls;
		});
		if (!before) return { ok: false, reason: 'not_found' };
		if (interpreterId && before.instructorId === interpreterId) {
			return { ok: false, reason: 'interpreter_is_instructor' };
		}
		if (before.interpreterId === interpreterId) return { ok: true, changed: false };
		// The class event drops cached class facts everywhere before access is asked again.
		await this.#publish({
			type: 'interpreter',
			classId,
			actorId: actor.id,
			interpreterId,
			previousInterpreterId: before.interpreterId
		});
		for (const userId of [before.interpreterId, interpreterId]) {
			if (userId) {
				await this.events.publish('access.changed', { userId, classId, reason: 'reassigned' });
			}
		}
		return { ok: true, changed: true };
	}

	/** A transition that did not apply: already there (a repeat), or not allowed from here. */
	async #unchanged(classId: string, to: ClassStatus): Promise<TransitionResult> {
		const cls = await this.db.policyClass.findUnique({
			where: { id: classId },
			select: { status: true }
		});
		if (!cls) return { ok: false, reason: 'not_found' };
		if (cls.status === to) return { ok: true, status: to, changed: false };
		return { ok: false, reason: 'bad_state' };
	}
}
