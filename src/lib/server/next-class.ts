import { classIsOver, listMyRegistrations, waitlistPositions } from './classes.ts';
import type { Db } from './db/client.ts';

export type NextClass = {
	id: string;
	title: string;
	startsAt: Date;
	durationMinutes: number;
	status: string;
	format: 'ONLINE' | 'IN_PERSON' | 'HYBRID';
	location: string | null;
	instructorName: string;
	registration: 'CONFIRMED' | 'WAITLISTED';
	/** Place on the waitlist (1-based) when waitlisted. */
	position: number | null;
};

/**
 * The 关怀模式 home's one class: a live class the user registered for, or else
 * the soonest one not over yet; a confirmed seat before a waitlisted one.
 */
export async function nextClassFor(
	db: Db,
	userId: string,
	now = new Date()
): Promise<NextClass | null> {
	const candidates = (await listMyRegistrations(db, userId))
		.filter((r) => !classIsOver(r.policyClass, now))
		.sort(
			(a, b) =>
				Number(b.policyClass.status === 'LIVE') - Number(a.policyClass.status === 'LIVE') ||
				Number(a.status === 'WAITLISTED') - Number(b.status === 'WAITLISTED') ||
				a.policyClass.startsAt.getTime() - b.policyClass.startsAt.getTime()
		);
	const next = candidates[0];
	if (!next || next.status === 'CANCELLED') return null;
	const cls = next.policyClass;
	const position =
		next.status === 'WAITLISTED'
			? ((await waitlistPositions(db, [next.id])).get(next.id) ?? null)
			: null;
	return {
		id: cls.id,
		title: cls.title,
		startsAt: cls.startsAt,
		durationMinutes: cls.durationMinutes,
		status: cls.status,
		format: cls.format,
		location: cls.location,
		instructorName: cls.instructor.displayName,
		registration: next.status,
		position
	};
}
