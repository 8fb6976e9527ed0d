import { randomUUID } from 'node:crypto';

/**
 * Domain events: what changed, typed once, for every module that must react.
 * The module that owns a piece of state publishes; media, recording, Q&A,
 * caches and pages subscribe instead of writing that state themselves.
 *
 * Times are ISO strings because events cross processes as JSON.
 */

export type ClassLifecycleEvent =
	| { type: 'live'; classId: string; actorId: string; wentLiveAt: string }
	| {
			type: 'ended';
			classId: string;
			actorId: string;
			wentLiveAt: string | null;
			endedAt: string;
	  }
	| {
			type: 'cancelled';
			classId: string;
			actorId: string;
			reason: string;
			cancelledAt: string;
			/** It was being broadcast when it was cancelled. */
			wasLive: boolean;
	  }
	| {
			type: 'rescheduled';
			classId: string;
			actorId: string;
			startsAt: string;
			previousStartsAt: string;
			durationMinutes: number;
	  }
	| {
			type: 'reassigned';
			classId: string;
			actorId: string;
			instructorId: string;
			previousInstructorId: string;
	  }
	| {
			/** The class's sign-language interpreter changed (null: none). */
			type: 'interpreter';
			classId: string;
			actorId: string;
			interpreterId: string | null;
			previousInterpreterId: string | null;
	  };

export type AccessChangeReason =
	| 'registered'
	| 'registration_cancelled'
	| 'promoted'
	| 'role_changed'
	| 'disabled'
	| 'enabled'
	| 'reassigned';

/** What a user may do changed: in one class, or (classId null) in every class. */
export type AccessChanged = {
	userId: string;
	classId: string | null;
	reason: AccessChangeReason;
};

/** Sessions that no longer exist: one browser signed out, or all of a user's. */
export type SessionsRevoked = {
	userId: string;
	/** null: every session of the user except `keep`. */
	sessionIds: string[] | null;
	/** A session that stays valid (the one a password change starts). */
	keep?: string;
	reason: 'logout' | 'password_changed' | 'disabled' | 'expired';
};

/**
 * What a session carries about its user changed without changing their
 * rights: the name and 爱心通道 in account settings, or the 关怀模式 choice.
 */
export type UserChanged = {
	userId: string;
	reason: 'profile' | 'care_mode';
};

/** A viewer's live connection entered or left its class's SFU room. */
export type LivePresence = {
	type: 'joined' | 'left';
	classId: string;
	userId: string;
	/** The socket.io connection, so a leave closes the interval its join opened. */
	connectionId: string;
	at: string;
};

/** A class's replay can be watched: one of its recordings became READY. */
export type RecordingReady = { classId: string; recordingId: string; readyAt: string };

export type DomainEvents = {
	'class.lifecycle': ClassLifecycleEvent;
	'access.changed': AccessChanged;
	'sessions.revoked': SessionsRevoked;
	'user.changed': UserChanged;
	'live.presence': LivePresence;
	'recording.ready': RecordingReady;
};
export type DomainEventName = keyof DomainEvents;

/**
 * Where a listener runs:
 * - 'every-process': in each app process (through Redis when REDIS_URL is set),
 *   for state every process keeps for itself: open sockets, caches;
 * - 'origin': only in the process that published, exactly once, for side
 *   effects that must not repeat (starting a recorder, queueing mail).
 */
export type ListenerScope = 'every-process' | 'origin';

type Listener<K extends DomainEventName> = (event: DomainEvents[K]) => void | Promise<void>;

/** The part of a Redis client the bus needs (node-redis v4+). */
export type RedisPubSub = {
	publish(channel: string, message: string): Promise<unknown>;
	subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
	unsubscribe(channel?: string): Promise<unknown>;
};

type Envelope = { origin: string; name: DomainEventName; event: unknown };
type RedisLink = { pub: RedisPubSub; sub: RedisPubSub; channel: string };

export class EventBus {
	readonly #listeners = new Map<string, Set<Listener<DomainEventName>>>();
	readonly #processId = randomUUID();
	readonly #redis: RedisLink | null;

	private constructor(redis: RedisLink | null) {
		this.#redis = redis;
	}

	/** In-process only: the embedded default, and tests. */
	static local(): EventBus {
		return new EventBus(null);
	}

	/**
	 * Shared by every process on one Redis channel (one per deployment). `sub`
	 * must be a connection of its own (a subscribed node-redis client takes no
	 * other commands).
	 */
	static async overRedis(pub: RedisPubSub, sub: RedisPubSub, channel: string): Promise<EventBus> {
		const bus = new EventBus({ pub, sub, channel });
		await sub.subscribe(channel, (message) => void bus.#receive(message));
		return bus;
	}

	on<K extends DomainEventName>(name: K, scope: ListenerScope, listener: Listener<K>): () => void {
		const key = `${scope}:${name}`;
		let set = this.#listeners.get(key);
		if (!set) this.#listeners.set(key, (set = new Set()));
		set.add(listener as Listener<DomainEventName>);
		return () => set.delete(listener as Listener<DomainEventName>);
	}

	/**
	 * Runs this process's every-process listeners, tells the other processes,
	 * then runs the origin listeners: the people in a class (open sockets, fresh
	 * caches) learn of a change before the side effects that write (mail,
	 * attendance) take their turn on the database. Resolves when the local
	 * listeners are done; a failing listener is logged and does not stop the
	 * others.
	 */
	async publish<K extends DomainEventName>(name: K, event: DomainEvents[K]): Promise<void> {
		await this.#run(`every-process:${name}`, event);
		if (this.#redis) {
			const envelope: Envelope = { origin: this.#processId, name, event };
			await this.#redis.pub.publish(this.#redis.channel, JSON.stringify(envelope)).catch((err) => {
				console.error('event bus: could not publish to Redis', name, err);
			});
		}
		await this.#run(`origin:${name}`, event);
	}

	async #receive(message: string): Promise<void> {
		let envelope: Envelope;
		try {
			envelope = JSON.parse(message) as Envelope;
		} catch {
			return;
		}
		if (envelope.origin === this.#processId) return;
		await this.#run(`every-process:${envelope.name}`, envelope.event);
	}

	async #run(key: string, event: unknown): Promise<void> {
		for (const listener of this.#listeners.get(key) ?? []) {
			try {
				await listener(event as never);
			} catch (err) {
				console.error(`event listener for ${key} failed`, err);
			}
		}
	}

	async close(): Promise<void> {
		this.#listeners.clear();
		await this.#redis?.sub.unsubscribe(this.#redis.channel).catch(() => undefined);
	}
}
