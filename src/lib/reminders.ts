/**
 * When registrants are reminded in the app: a notice from 24 h before their
 * class, and from 15 min before a prominent "进入直播间" (enter the live room)
 * on the schedule, the class page and "my classes". The live room itself
 * opens to viewers 30 min before (class-access.ts, LIVE_JOIN_LEAD_MS).
 */
export const NOTICE_LEAD_MS = 24 * 3600_000;
export const ENTER_LEAD_MS = 15 * 60_000;

type Timed = { status: string; startsAt: Date; durationMinutes: number };

/** From 15 min before the start until the planned end, or while it is live. */
export function enterLiveShown(cls: Timed, now: Date): boolean {
	if (cls.status === 'LIVE') return true;
	if (cls.status !== 'SCHEDULED') return false;
	const start = cls.startsAt.getTime();
	const t = now.getTime();
	return t >= start - ENTER_LEAD_MS && t < start + cls.durationMinutes * 60_000;
}

/** From 24 h before the start (the notice), until the live room button takes over or it ends. */
export function noticeShown(cls: Timed, now: Date): boolean {
	if (cls.status === 'LIVE') return true;
	if (cls.status !== 'SCHEDULED') return false;
	const start = cls.startsAt.getTime();
	const t = now.getTime();
	return t >= start - NOTICE_LEAD_MS && t < start + cls.durationMinutes * 60_000;
}
