import type { SessionUser } from './auth/session.ts';
import type { Db } from './db/client.ts';
import type { ClassStatus, RegistrationStatus, Role } from './db/generated/enums.ts';
import type { EventBus } from './events.ts';
import { GroupCommit } from './group-commit.ts';

/**
 * What a user may do in a class: the one answer every page, both socket
 * namespaces and the recordings ask for. Nothing else decides access.
 *
 * Levels, from most to least:
 * - manage: staff, admins and the class's instructor (moderate Q&A, manage
 *   recordings and registrants, watch);
 * - participate: a CONFIRMED registrant of a class that has not ended (watch
 *   live, ask and vote), and the class's sign-language interpreter, who needs
 *   no seat;
 * - watch: a CONFIRMED registrant once the class has ended, or anyone for a
 *   PUBLIC recording (rewatch, read the Q&A);
 * - readonly: a WAITLISTED registrant (follows the Q&A, may be let in);
 * - none.
 * A cancelled class keeps only its managers.
 */
export type AccessLevel = 'manage' | 'participate' | 'watch' | 'readonly' | 'none';

export type ClassAccess = {
	classId: string;
	level: AccessLevel;
	/** May broadcast from the studio: the class's instructor, or an admin. */
	present: boolean;
	/** The class's assigned sign-language interpreter (手语翻译). */
	interpreter: boolean;
	/** Access comes only from a public recording, not from who the user is. */
	publicOnly: boolean;
	status: ClassStatus;
	startsAt: Date;
};

/** The facts access is decided from. */
export type AccessFacts = {
	user: Pick<SessionUser, 'id' | 'role'> | null;
	cls: {
		id: string;
		instructorId: string;
		/** The assigned sign-language interpreter; absent means none. */
		interpreterId?: string | null;
		status: ClassStatus;
		startsAt: Date;
	};
	registration: RegistrationStatus | null;
	/** Set when asking about a recording of the class. */
	recordingVisibility?: 'REGISTRANTS' | 'PUBLIC';
};

const MANAGERS: readonly Role[] = ['STAFF', 'ADMIN'];

export function decideAccess({
	user,
	cls,
	registration,
	recordingVisibility
}: AccessFacts): ClassAccess {
	const open = cls.status === 'SCHEDULED' || cls.status === 'LIVE';
	const interpreter = user !== null && !!cls.interpreterId && user.id === cls.interpreterId;
	const result = (level: AccessLevel, present = false, publicOnly = false): ClassAccess => ({
		classId: cls.id,
		level,
		present,
		interpreter,
		publicOnly,
		status: cls.status,
		startsAt: cls.startsAt
	});
	if (user && (MANAGERS.includes(user.role) || user.id === cls.instructorId)) {
		const presenter = user.id === cls.instructorId || user.role === 'ADMIN';
		return result('manage', presenter && open);
	}
	let level: AccessLevel = 'none';
	if (cls.status !== 'CANCELLED') {
		if (registration === 'CONFIRMED' || interpreter) level = open ? 'participate' : 'watch';
		else if (registration === 'WAITLISTED' && open) level = 'readonly';
	}
	if (level === 'none' && recordingVisibility === 'PUBLIC') return result('watch', false, true);
	return result(level);
}

type ClassFacts = AccessFacts['cls'];

/**
 * Where the facts come from: the database, or a cache in front of it. The
 * decision is the same either way.
 */
export interface AccessFactsSource {
	classFacts(classId: string): Promise<ClassFacts | null>;
	/** The user's active registration status in the class, if any. */
	registration(userId: string, classId: string): Promise<RegistrationStatus | null>;
}

/** Facts read from the database every time: for decisions that write. */
export function databaseFacts(db: Db): AccessFactsSource {
	return {
		classFacts: (classId) =>
			db.policyClass.findUnique({
				where: { id: classId },
				select: {
					id: true,
					instructorId: true,
					interpreterId: true,
					status: true,
					startsAt: true
				}
			}),
		registration: async (userId, classId) => (await registrationsIn(db, classId, [userId]))[0]!
	};
}

/** Each user's active registration status in one class, in the order asked. */
async function registrationsIn(
	db: Db,
	classId: string,
	userIds: string[]
): Promise<(RegistrationStatus | null)[]> {
	const rows = await db.registration.findMany({
		where: { classId, userId: { in: userIds }, status: { not: 'CANCELLED' } },
		select: { userId: true, status: true }
	});
	const status = new Map(rows.map((r) => [r.userId, r.status]));
	return userIds.map((id) => status.get(id) ?? null);
}

/**
 * Facts kept for a short while, so that the class-start rush (thousands of
 * joins to one class) reads the class once and each registration once. Every
 * change that could alter them is an event, and the event drops them at once,
 * in every process: the lifecycle for the class, access changes for a user.
 */
export class CachedAccessFacts implements AccessFactsSource {
	readonly #source: AccessFactsSource;
	/** The same facts read from the database every time, for a decision that must not lag. */
	readonly fresh: AccessFactsSource;
	readonly #classes = new Map<string, { at: number; value: Promise<ClassFacts | null> }>();
	readonly #registrations = new Map<
		string,
		{ at: number; value: Promise<RegistrationStatus | null> }
	>();
	/** Misses that arrive together (everyone's join at class start) are read in one query per class. */
	readonly #registrationReads: GroupCommit<string, RegistrationStatus | null>;

	constructor(
		db: Db,
		events: EventBus,
		readonly ttlMs = 30_000
	) {
		this.#source = databaseFacts(db);
		this.fresh = this.#source;
		this.#registrationReads = new GroupCommit((classId, userIds) =>
			registrationsIn(db, classId, userIds)
		);
		events.on('class.lifecycle', 'every-process', (e) => {
			this.#classes.delete(e.classId);
		});
		events.on('access.changed', 'every-process', (e) => {
			const prefix = `${e.userId}:`;
			for (const key of this.#registrations.keys()) {
				if (e.classId === null ? key.startsWith(prefix) : key === prefix + e.classId) {
					this.#registrations.delete(key);
				}
			}
		});
	}

	classFacts(classId: string): Promise<ClassFacts | null> {
		return this.#cached(this.#classes, classId, () => this.#source.classFacts(classId));
	}

	registration(userId: string, classId: string): Promise<RegistrationStatus | null> {
		return this.#cached(this.#registrations, `${userId}:${classId}`, () =>
			this.#registrationReads.add(classId, userId)
		);
	}

	#cached<T>(
		map: Map<string, { at: number; value: Promise<T> }>,
		key: string,
		load: () => Promise<T>
	) {
		const now = Date.now();
		const hit = map.get(key);
		if (hit && now - hit.at < this.ttlMs) return hit.value;
		if (map.size > 100_000) map.clear();
		const value = load();
		map.set(key, { at: now, value });
		// A failed read is not remembered.
		value.catch(() => {
			if (map.get(key)?.value === value) map.delete(key);
		});
		return value;
	}
}

/** Access to a class, or null when there is no such class. */
export async function classAccess(
	facts: AccessFactsSource,
	user: Pick<SessionUser, 'id' | 'role'> | null,
	classId: string,
	options: { recordingVisibility?: 'REGISTRANTS' | 'PUBLIC' } = {}
): Promise<ClassAccess | null> {
	const [cls, registration] = await Promise.all([
		facts.classFacts(classId),
		user ? facts.registration(user.id, classId) : null
	]);
	if (!cls) return null;
	return decideAccess({
		user,
		cls,
		registration,
		recordingVisibility: options.recordingVisibility
	});
}

/** What each level allows; pages and namespaces ask these, never the level itself. */
export const may = {
	manage: (a: ClassAccess) => a.level === 'manage',
	present: (a: ClassAccess) => a.present,
	/**
	 * Publish a camera alongside the instructor while the class is open: the
	 * assigned interpreter. Camera only; going live, ending and sharing a
	 * screen stay with the presenter.
	 */
	interpret: (a: ClassAccess) => a.interpreter && (a.status === 'SCHEDULED' || a.status === 'LIVE'),
	watchLive: (a: ClassAccess) =>
		(a.level === 'manage' || a.level === 'participate') && a.status !== 'CANCELLED',
	/** Ask and vote (the Q&A itself still refuses once the class is over). */
	ask: (a: ClassAccess) => a.level === 'manage' || a.level === 'participate',
	followQa: (a: ClassAccess) => a.level !== 'none' && !a.publicOnly,
	watchReplay: (a: ClassAccess) => a.level !== 'none' && a.level !== 'readonly',
	/** Real names of askers: registrants and staff, never a public audience. */
	seeAskerNames: (a: ClassAccess) => a.level !== 'none' && !a.publicOnly,
	/** Upload, delete and publish class materials. */
	manageMaterials: (a: ClassAccess) => a.level === 'manage',
	/** Every material of the class; files staff made public are for anyone (mayDownloadMaterial). */
	downloadMaterials: (a: ClassAccess) =>
		a.level === 'manage' || ((a.level === 'participate' || a.level === 'watch') && !a.publicOnly),
	/** Confirmed registrants are asked for the 满意度评价 when the class ends (not its interpreter). */
	beAskedToRate: (a: ClassAccess) =>
		(a.level === 'participate' || a.level === 'watch') && !a.publicOnly && !a.interpreter,
	/** Answer the 满意度评价: a confirmed registrant, once the class has ended. */
	rate: (a: ClassAccess): boolean => may.beAskedToRate(a) && a.status === 'ENDED'
};

/** One material file: public ones for anyone, signed in or not; the rest as downloadMaterials. */
export function mayDownloadMaterial(
	access: ClassAccess,
	material: { visibility: 'REGISTRANTS' | 'PUBLIC' }
): boolean {
	return material.visibility === 'PUBLIC' || may.downloadMaterials(access);
}

/** Viewers may open the live media from this long before the start. */
export const LIVE_JOIN_LEAD_MS = 30 * 60_000;

/**
 * Whether a viewer may hold media transports now: while the class is LIVE, or
 * shortly before it starts. Earlier joins wait without taking SFU resources.
 */
export function liveMediaOpen(access: ClassAccess, now: Date): boolean {
	if (access.status === 'LIVE') return true;
	return (
		access.status === 'SCHEDULED' && now.getTime() >= access.startsAt.getTime() - LIVE_JOIN_LEAD_MS
	);
}
