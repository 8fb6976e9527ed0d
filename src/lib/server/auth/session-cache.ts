import type { Db } from '../db/client.ts';
import type { EventBus } from '../events.ts';
import { GroupCommit } from '../group-commit.ts';
import { sessionIdFromToken, validateSessionTokens, type ValidatedSession } from './session.ts';

/**
 * Validated sessions kept for a short while, so that requests and socket
 * handshakes do not each read the session from the database. Whatever ends
 * or changes a session is an event (sign-out, password change, disabling, a
 * role change, a profile or 关怀模式 change), and the event drops it at once
 * in every process; expiry is checked on every hit. Misses that arrive
 * together (the minute a class starts, everyone's first request) are read
 * in one query: whatever queued while the previous read ran goes in the next.
 */
export class SessionCache {
	readonly #byId = new Map<string, { at: number; session: ValidatedSession }>();
	readonly #byUser = new Map<string, Set<string>>();
	readonly #reads = new GroupCommit<string, ValidatedSession | null>((_, tokens) =>
		validateSessionTokens(this.db, tokens, this.sessionDays)
	);

	constructor(
		readonly db: Db,
		events: EventBus,
		readonly sessionDays: number,
		readonly ttlMs = 30_000
	) {
		events.on('sessions.revoked', 'every-process', (e) => {
			for (const id of e.sessionIds ?? [...(this.#byUser.get(e.userId) ?? [])]) {
				if (id !== e.keep) this.#drop(id);
			}
		});
		events.on('access.changed', 'every-process', (e) => {
			// A role change or disabling changes the user a session carries.
			if (e.classId === null) this.#dropUser(e.userId);
		});
		events.on('user.changed', 'every-process', (e) => this.#dropUser(e.userId));
	}

	/** The session for a cookie's token, or null; slides the expiry as validateSessionToken does. */
	async validate(token: string): Promise<ValidatedSession | null> {
		const id = sessionIdFromToken(token);
		const now = Date.now();
		const hit = this.#byId.get(id);
		if (hit && now - hit.at < this.ttlMs && hit.session.expiresAt.getTime() > now) {
			return hit.session;
		}
		const session = await this.#reads.add('sessions', token);
		if (!session) {
			this.#drop(id);
			return null;
		}
		if (this.#byId.size > 100_000) this.#clear();
		this.#byId.set(id, { at: now, session });
		let ids = this.#byUser.get(session.user.id);
		if (!ids) this.#byUser.set(session.user.id, (ids = new Set()));
		ids.add(id);
		return session;
	}

	#dropUser(userId: string): void {
		for (const id of [...(this.#byUser.get(userId) ?? [])]) this.#drop(id);
	}

	#drop(id: string): void {
		const entry = this.#byId.get(id);
		if (!entry) return;
		this.#byId.delete(id);
		const ids = this.#byUser.get(entry.session.user.id);
		ids?.delete(id);
		if (ids?.size === 0) this.#byUser.delete(entry.session.user.id);
	}

	#clear(): void {
		this.#byId.clear();
		this.#byUser.clear();
	}
}
