import { NOTICE_LEAD_MS } from '$lib/reminders.ts';
import type { Db } from './db/client.ts';

/** Longest class (ClassForm allows 600 minutes): a started class stays in the notice until its end. */
const LONGEST_CLASS_MS = 600 * 60_000;

/**
 * The in-app reminders' data: a confirmed registrant's classes that are live
 * or start within 24 hours. The page decides, as time passes, what to show.
 */
export async function upcomingClasses(db: Db, userId: string, now = new Date()) {
	return db.policyClass.findMany({
		where: {
			registrations: { some: { userId, status: 'CONFIRMED' } },
			OR: [
				{ status: 'LIVE' },
				{
					status: 'SCHEDULED',
					startsAt: {
						gt: new Date(now.getTime() - LONGEST_CLASS_MS),
						lte: new Date(now.getTime() + NOTICE_LEAD_MS)
					}
				}
			]
		},
		select: { id: true, title: true, status: true, startsAt: true, durationMinutes: true },
		orderBy: { startsAt: 'asc' },
		take: 5
	});
}
