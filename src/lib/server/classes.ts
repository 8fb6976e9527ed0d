import { contactLookup } from './accounts.ts';
import type { Db } from './db/client.ts';
import type { Prisma } from './db/generated/client.ts';
import type { ClassFormat } from './db/generated/enums.ts';
import type { PolicyClassInput } from '$lib/schemas/policy-class.ts';

/**
 * Queries for the class schedule. Classes are created and changed by the
 * class lifecycle (class-lifecycle.ts); seats by the registration rules.
 */

export type ScheduleFilter = {
	q?: string;
	topic?: string;
	format?: ClassFormat;
	from?: Date;
	to?: Date;
	includePast?: boolean;
};

const listSelect = {
	id: true,
	title: true,
	summary: true,
	topics: true,
	startsAt: true,
	durationMinutes: true,
	format: true,
	location: true,
	capacity: true,
	confirmedCount: true,
	status: true,
	registrationOpensAt: true,
	registrationClosesAt: true,
	instructor: { select: { id: true, displayName: true } }
} satisfies Prisma.PolicyClassSelect;

export type ClassListItem = Prisma.PolicyClassGetPayload<{ select: typeof listSelect }>;

export async function listSchedule(db: Db, filter: ScheduleFilter, now = new Date()) {
	const where: Prisma.PolicyClassWhereInput = { AND: [] };
	const and = where.AND as Prisma.PolicyClassWhereInput[];
	if (!filter.includePast) {
		and.push({ status: { in: ['SCHEDULED', 'LIVE', 'CANCELLED'] } });
		and.push({
			OR: [{ startsAt: { gte: new Date(now.getTime() - 6 * 3600_000) } }, { status: 'LIVE' }]
		});
	}
	if (filter.topic) and.push({ topics: { has: filter.topic } });
	if (filter.format) and.push({ format: filter.format });
	if (filter.from) and.push({ startsAt: { gte: filter.from } });
	if (filter.to) and.push({ startsAt: { lt: filter.to } });
	const q = filter.q?.trim();
	if (q) {
		and.push({
			OR: [
				{ title: { contains: q, mode: 'insensitive' } },
				{ summary: { contains: q, mode: 'insensitive' } },
				{ topics: { has: q } },
				{ instructor: { displayName: { contains: q, mode: 'insensitive' } } }
			]
		});
	}
	return db.policyClass.findMany({
		where,
		select: listSelect,
		orderBy: filter.includePast ? { startsAt: 'desc' } : { startsAt: 'asc' },
		take: 200
	});
}

export async function listTopics(db: Db): Promise<string[]> {
	const rows = await db.$queryRaw<{ topic: string }[]>`
		SELECT DISTINCT unnest(topics) AS topic FROM policy_class ORDER BY topic`;
	return rows.map((r) => r.topic);
}

export async function getClass(db: Db, id: string) {
	return db.policyClass.findUnique({
		where: { id },
		select: {
			...listSelect,
			instructorId: true,
			interpreterId: true,
			cancelReason: true,
			wentLiveAt: true,
			endedAt: true,
			reservedSeats: true,
			reservedConfirmedCount: true,
			reservedReleaseAt: true,
			reservedReleasedAt: true
		}
	});
}

export async function countWaitlisted(db: Db, classId: string): Promise<number> {
	return db.registration.count({ where: { classId, status: 'WAITLISTED' } });
}

/** The user's active registration for a class, with their waitlist position if waitlisted. */
export async function getMyRegistration(db: Db, classId: string, userId: string) {
	const registration = await db.registration.findFirst({
		where: { classId, userId, status: { not: 'CANCELLED' } },
		select: { id: true, status: true, seq: true }
	});
	if (!registration) return null;
	const position =
		registration.status === 'WAITLISTED'
			? (await db.registration.count({
					where: { classId, status: 'WAITLISTED', seq: { lt: registration.seq } }
				})) + 1
			: null;
	return { id: registration.id, status: registration.status, position };
}

/** The class's sign-language interpreter, for staff: name and the contact they sign in with. */
export async function getInterpreter(db: Db, classId: string) {
	const cls = await db.policyClass.findUnique({
		where: { id: classId },
		select: { interpreter: { select: { id: true, displayName: true, email: true, phone: true } } }
	});
	const user = cls?.interpreter;
	return user
		? { id: user.id, displayName: user.displayName, contact: user.email ?? user.phone ?? '' }
		: null;
}

/** The active account signing in with this mobile or email, if any. */
export async function findActiveAccount(db: Db, contact: string) {
	const where = contactLookup(contact);
	if (!where) return null;
	return db.user.findFirst({ where: { ...where, disabledAt: null }, select: { id: true } });
}

/** Who may be named a class's instructor: instructor and admin accounts. */
export async function listInstructors(db: Db) {
	return db.user.findMany({
		where: { role: { in: ['INSTRUCTOR', 'ADMIN'] }, disabledAt: null },
		select: { id: true, displayName: true, role: true },
		orderBy: { displayName: 'asc' }
	});
}

/**
 * Everything an edit sets on a class except capacity. The reserved seats are
 * saved with the capacity, under the registration rules (changeCapacity).
 */
export function classDetails(input: PolicyClassInput) {
	return {
		title: input.title,
		summary: input.summary,
		topics: input.topics,
		instructorId: input.instructorId,
		startsAt: input.startsAt,
		durationMinutes: input.durationMinutes,
		format: input.format,
		location: input.format === 'ONLINE' ? null : input.location,
		registrationOpensAt: input.registrationOpensAt,
		registrationClosesAt: input.registrationClosesAt,
		reservedSeats: input.reservedSeats,
		reservedReleaseAt: input.reservedReleaseAt
	};
}

export type ClassDetails = ReturnType<typeof classDetails>;

export async function listManagedClasses(db: Db, instructorId: string | null) {
	return db.policyClass.findMany({
		where: instructorId ? { instructorId } : {},
		select: listSelect,
		orderBy: { startsAt: 'desc' }
	});
}

export async function listRegistrants(db: Db, classId: string) {
	return db.registration.findMany({
		where: { classId },
		orderBy: [{ status: 'asc' }, { seq: 'asc' }],
		select: {
			id: true,
			status: true,
			createdAt: true,
			cancelledAt: true,
			user: {
				select: {
					displayName: true,
					email: true,
					phone: true,
					companyName: true,
					creditCode: true,
					priorityService: true,
					priorityReason: true
				}
			}
		}
	});
}

export async function listMyRegistrations(db: Db, userId: string) {
	return db.registration.findMany({
		where: { userId, status: { not: 'CANCELLED' } },
		orderBy: { policyClass: { startsAt: 'asc' } },
		select: {
			id: true,
			status: true,
			seq: true,
			noticeSeenAt: true,
			policyClass: { select: { ...listSelect, cancelReason: true } }
		}
	});
}

/** Waitlist positions (1-based) for the given waitlisted registrations. */
export async function waitlistPositions(db: Db, registrationIds: string[]) {
	if (registrationIds.length === 0) return new Map<string, number>();
	const rows = await db.$queryRaw<{ id: string; position: bigint }[]>`
		SELECT id, position FROM (
			SELECT id, row_number() OVER (PARTITION BY class_id ORDER BY seq) AS position
			FROM registration
			WHERE status = 'WAITLISTED'
			  AND class_id IN (SELECT class_id FROM registration WHERE id = ANY(${registrationIds}))
		) ranked WHERE id = ANY(${registrationIds})`;
	return new Map(rows.map((r) => [r.id, Number(r.position)]));
}

export async function dismissCancellationNotice(db: Db, registrationId: string, userId: string) {
	await db.registration.updateMany({
		where: { id: registrationId, userId },
		data: { noticeSeenAt: new Date() }
	});
}

/** A class counts as over once it should have finished, unless it is still live. */
export function classIsOver(
	cls: { status: string; startsAt: Date; durationMinutes: number },
	now: Date
): boolean {
	if (cls.status === 'ENDED' || cls.status === 'CANCELLED') return true;
	return (
		cls.status === 'SCHEDULED' &&
		cls.startsAt.getTime() + cls.durationMinutes * 60_000 < now.getTime()
	);
}
