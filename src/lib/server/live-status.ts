import type { SessionUser } from './auth/session.ts';
import type { Db } from './db/client.ts';

/**
 * The one place where a class goes live and ends. Everything that must react
 * (the media namespace broadcasting to viewers, later the recorder) subscribes
 * with onLiveStatusChange instead of touching policyClass.status itself.
 */
export type LiveTransition = 'LIVE' | 'ENDED';

export type LiveStatusChange = {
	classId: string;
	status: LiveTransition;
	wentLiveAt: Date | null;
	endedAt: Date | null;
	/** User who made the change. */
	actorId: string;
};

export type LiveStatusResult =
	| { ok: true; change: LiveStatusChange; changed: boolean }
	| { ok: false; reason: 'not_found' | 'forbidden' | 'bad_state' };

type Listener = (change: LiveStatusChange) => void | Promise<void>;

const LISTENERS_KEY = Symbol.for('taxpayer-classroom.live-status-listeners');
type WithListeners = { [LISTENERS_KEY]?: Set<Listener> };

function listeners(): Set<Listener> {
	const holder = globalThis as WithListeners;
	return (holder[LISTENERS_KEY] ??= new Set());
}

/** Called after each committed transition (not for idempotent repeats). Returns an unsubscribe. */
export function onLiveStatusChange(listener: Listener): () => void {
	listeners().add(listener);
	return () => listeners().delete(listener);
}

async function notify(change: LiveStatusChange): Promise<void> {
	for (const listener of listeners()) {
		try {
			await listener(change);
		} catch (err) {
			console.error('live status listener failed', err);
		}
	}
}

/** Only the class's own instructor, or an admin, may broadcast it. */
export function canPublish(user: SessionUser, cls: { instructorId: string }): boolean {
	return user.id === cls.instructorId || user.role === 'ADMIN';
}

/** Registered (CONFIRMED) taxpayers, the instructor, staff and admins may watch. */
export function mayWatch(
	user: SessionUser,
	cls: { instructorId: string },
	registrationStatus: string | null | undefined
): boolean {
	return (
		registrationStatus === 'CONFIRMED' ||
		user.role === 'STAFF' ||
		user.role === 'ADMIN' ||
		user.id === cls.instructorId
	);
}

export async function canWatchClass(
	db: Db,
	user: SessionUser,
	cls: { id: string; instructorId: string }
): Promise<boolean> {
	if (mayWatch(user, cls, null)) return true;
	const registration = await db.registration.findFirst({
		where: { classId: cls.id, userId: user.id, status: 'CONFIRMED' },
		select: { status: true }
	});
	return mayWatch(user, cls, registration?.status);
}

const select = { id: true, instructorId: true, status: true, wentLiveAt: true, endedAt: true };

function changeOf(
	cls: { id: string; wentLiveAt: Date | null; endedAt: Date | null },
	status: LiveTransition,
	actorId: string
): LiveStatusChange {
	return {
		classId: cls.id,
		status,
		wentLiveAt: cls.wentLiveAt,
		endedAt: cls.endedAt,
		actorId
	};
}

/** SCHEDULED → LIVE (sets wentLiveAt). Repeating it while LIVE is a no-op success. */
export async function goLive(
	db: Db,
	classId: string,
	actor: SessionUser,
	now: Date = new Date()
): Promise<LiveStatusResult> {
	const cls = await db.policyClass.findUnique({ where: { id: classId }, select });
	if (!cls) return { ok: false, reason: 'not_found' };
	if (!canPublish(actor, cls)) return { ok: false, reason: 'forbidden' };
	if (cls.status === 'LIVE')
		return { ok: true, change: changeOf(cls, 'LIVE', actor.id), changed: false };
	// Conditional update: two concurrent requests cannot both make the transition.
	const { count } = await db.policyClass.updateMany({
		where: { id: classId, status: 'SCHEDULED' },
		data: { status: 'LIVE', wentLiveAt: now }
	});
	if (count === 0) {
		const again = await db.policyClass.findUnique({ where: { id: classId }, select });
		if (again?.status === 'LIVE') {
			return { ok: true, change: changeOf(again, 'LIVE', actor.id), changed: false };
		}
		return { ok: false, reason: 'bad_state' };
	}
	const change = changeOf({ ...cls, wentLiveAt: now }, 'LIVE', actor.id);
	await notify(change);
	return { ok: true, change, changed: true };
}

/** LIVE → ENDED (sets endedAt). Repeating it once ENDED is a no-op success. */
export async function endLive(
	db: Db,
	classId: string,
	actor: SessionUser,
	now: Date = new Date()
): Promise<LiveStatusResult> {
	const cls = await db.policyClass.findUnique({ where: { id: classId }, select });
	if (!cls) return { ok: false, reason: 'not_found' };
	if (!canPublish(actor, cls)) return { ok: false, reason: 'forbidden' };
	if (cls.status === 'ENDED') {
		return { ok: true, change: changeOf(cls, 'ENDED', actor.id), changed: false };
	}
	const { count } = await db.policyClass.updateMany({
		where: { id: classId, status: 'LIVE' },
		data: { status: 'ENDED', endedAt: now }
	});
	if (count === 0) {
		const again = await db.policyClass.findUnique({ where: { id: classId }, select });
		if (again?.status === 'ENDED') {
			return { ok: true, change: changeOf(again, 'ENDED', actor.id), changed: false };
		}
		return { ok: false, reason: 'bad_state' };
	}
	const change = changeOf({ ...cls, endedAt: now }, 'ENDED', actor.id);
	await notify(change);
	return { ok: true, change, changed: true };
}
