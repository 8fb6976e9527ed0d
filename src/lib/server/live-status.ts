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

const TRANSITIONS = {
	LIVE: { from: 'SCHEDULED', stamp: 'wentLiveAt' },
	ENDED: { from: 'LIVE', stamp: 'endedAt' }
} as const;

/**
 * Move a class into `to` and stamp the time. Repeating a transition that has
 * already happened is a no-op success; a conditional update keeps two
 * concurrent requests from both making it.
 */
async function transition(
	db: Db,
	classId: string,
	actor: SessionUser,
	to: LiveTransition,
	now: Date
): Promise<LiveStatusResult> {
	const { from, stamp } = TRANSITIONS[to];
	const cls = await db.policyClass.findUnique({ where: { id: classId }, select });
	if (!cls) return { ok: false, reason: 'not_found' };
	if (!canPublish(actor, cls)) return { ok: false, reason: 'forbidden' };
	if (cls.status === to) return { ok: true, change: changeOf(cls, to, actor.id), changed: false };
	const { count } = await db.policyClass.updateMany({
		where: { id: classId, status: from },
		data: { status: to, [stamp]: now }
	});
	if (count === 0) {
		const again = await db.policyClass.findUnique({ where: { id: classId }, select });
		if (again?.status === to) {
			return { ok: true, change: changeOf(again, to, actor.id), changed: false };
		}
		return { ok: false, reason: 'bad_state' };
	}
	const change = changeOf({ ...cls, [stamp]: now }, to, actor.id);
	await notify(change);
	return { ok: true, change, changed: true };
}

/** SCHEDULED → LIVE (sets wentLiveAt). */
export function goLive(db: Db, classId: string, actor: SessionUser, now = new Date()) {
	return transition(db, classId, actor, 'LIVE', now);
}

/** LIVE → ENDED (sets endedAt). */
export function endLive(db: Db, classId: string, actor: SessionUser, now = new Date()) {
	return transition(db, classId, actor, 'ENDED', now);
}
