import type { Db } from './db/client.ts';
import type { EventBus, LivePresence } from './events.ts';
import { GroupCommit } from './group-commit.ts';

/**
 * 到课 (attendance), written as it happens:
 * - live: one row per media connection, opened by the media namespace's
 *   'live.presence' joined event and closed by its left event. Reports merge
 *   a person's rows into intervals, so a reconnect or a second tab counts once.
 *   The process holding a connection marks it seen every minute; a row a crash
 *   left open is closed where it was last seen. A class that ends or is
 *   cancelled closes its rows at that moment.
 * - replay: seconds actually played, which the player reports in batches.
 * Q&A activity is read from the questions and votes themselves.
 */

export type AttendanceOptions = {
	heartbeatMs?: number;
	/** An open row not seen for this long belongs to a process that is gone. */
	staleMs?: number;
	now?: () => Date;
};

/** The most one batch of replay seconds may hold (the player sends every 15 s). */
export const REPLAY_BATCH_MAX_SECONDS = 60;
/** Slack for clocks and timers when a batch is compared with the time since the last one. */
const REPLAY_SLACK_SECONDS = 5;

export type ReplayReport = { ok: true; total: number } | { ok: false; reason: 'too_much' };

export class Attendance {
	readonly #heartbeatMs: number;
	readonly #staleMs: number;
	readonly #now: () => Date;
	/** Rows this process opened and has not closed, by connection. */
	readonly #open = new Map<string, { classId: string }>();
	/** Per connection, so a leave never overtakes its join. */
	readonly #chains = new Map<string, Promise<void>>();
	#timer: ReturnType<typeof setInterval> | null = null;
	/** Joins that arrive together (the minute a class starts) are written in one statement. */
	readonly #joins = new GroupCommit<LivePresence, void>(async (_, joins) => {
		await this.db.liveAttendance.createMany({
			data: joins.map((e) => ({
				classId: e.classId,
				userId: e.userId,
				connectionId: e.connectionId,
				joinedAt: new Date(e.at),
				seenAt: new Date(e.at)
			}))
		});
		return joins.map(() => undefined);
	});
	/** Leaves that arrive together are written in one statement, each at its own time. */
	readonly #leaves = new GroupCommit<LivePresence, void>(async (_, leaves) => {
		await this.db.$executeRaw`
			UPDATE live_attendance AS a SET left_at = l.at, seen_at = l.at
			FROM unnest(
				${leaves.map((e) => e.connectionId)}::text[],
				${leaves.map((e) => new Date(e.at).toISOString())}::timestamp[]
			) AS l(connection_id, at)
			WHERE a.connection_id = l.connection_id AND a.left_at IS NULL`;
		return leaves.map(() => undefined);
	});
	#unsubscribe: (() => void)[] = [];

	constructor(
		readonly db: Db,
		readonly events: EventBus,
		options: AttendanceOptions = {}
	) {
		this.#heartbeatMs = options.heartbeatMs ?? 60_000;
		this.#staleMs = options.staleMs ?? 3 * (options.heartbeatMs ?? 60_000);
		this.#now = options.now ?? (() => new Date());
	}

	async start(): Promise<void> {
		if (this.#timer) return;
		this.#unsubscribe.push(
			this.events.on('live.presence', 'origin', (e) => this.#serialize(e)),
			this.events.on('class.lifecycle', 'origin', async (e) => {
				if (e.type === 'ended') await this.closeClass(e.classId, new Date(e.endedAt));
				if (e.type === 'cancelled') await this.closeClass(e.classId, new Date(e.cancelledAt));
			})
		);
		await this.sweep();
		this.#timer = setInterval(() => void this.#beat(), this.#heartbeatMs);
		this.#timer.unref();
	}

	/** Closes what this process still holds open, at now. */
	async stop(): Promise<void> {
		for (const off of this.#unsubscribe) off();
		this.#unsubscribe = [];
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
		await Promise.all(this.#chains.values());
		const ids = [...this.#open.keys()];
		this.#open.clear();
		if (ids.length > 0) {
			const now = this.#now();
			await this.db.liveAttendance.updateMany({
				where: { connectionId: { in: ids }, leftAt: null },
				data: { leftAt: now, seenAt: now }
			});
		}
	}

	/** Resolves once every presence event received so far is written (tests, shutdown). */
	async settled(): Promise<void> {
		await Promise.all(this.#chains.values());
	}

	#serialize(e: LivePresence): Promise<void> {
		const previous = this.#chains.get(e.connectionId) ?? Promise.resolve();
		const next = previous
			.then(() => this.#record(e))
			.catch((error) => console.error('[attendance] could not record presence', error));
		this.#chains.set(e.connectionId, next);
		void next.finally(() => {
			if (this.#chains.get(e.connectionId) === next) this.#chains.delete(e.connectionId);
		});
		return next;
	}

	async #record(e: LivePresence): Promise<void> {
		if (e.type === 'joined') {
			await this.#joins.add('live', e);
			this.#open.set(e.connectionId, { classId: e.classId });
		} else {
			this.#open.delete(e.connectionId);
			await this.#leaves.add('live', e);
		}
	}

	async closeClass(classId: string, at: Date): Promise<void> {
		for (const [id, open] of this.#open) if (open.classId === classId) this.#open.delete(id);
		await this.db.liveAttendance.updateMany({
			where: { classId, leftAt: null },
			data: { leftAt: at, seenAt: at }
		});
	}

	async #beat(): Promise<void> {
		try {
			const now = this.#now();
			const ids = [...this.#open.keys()];
			if (ids.length > 0) {
				await this.db.liveAttendance.updateMany({
					where: { connectionId: { in: ids }, leftAt: null },
					data: { seenAt: now }
				});
			}
			await this.sweep();
		} catch (error) {
			console.error('[attendance] heartbeat failed', error);
		}
	}

	/** Closes rows whose process stopped marking them: at the last time they were seen. */
	async sweep(): Promise<number> {
		const cutoff = new Date(this.#now().getTime() - this.#staleMs);
		return this.db.$executeRaw`
			UPDATE live_attendance SET left_at = seen_at
			WHERE left_at IS NULL AND seen_at < ${cutoff}`;
	}

	/**
	 * Adds replay seconds the player reports. A batch may not claim more time
	 * than has passed since the previous one (nor more than a batch holds).
	 */
	async recordReplay(classId: string, userId: string, seconds: number): Promise<ReplayReport> {
		const now = this.#now();
		const rows = await this.db.$queryRaw<{ seconds: number }[]>`
			INSERT INTO replay_watch (class_id, user_id, seconds, reported_at, created_at)
			VALUES (${classId}, ${userId}, ${seconds}, ${now}, ${now})
			ON CONFLICT (class_id, user_id) DO UPDATE
			   SET seconds = replay_watch.seconds + EXCLUDED.seconds, reported_at = EXCLUDED.reported_at
			 WHERE EXTRACT(EPOCH FROM (EXCLUDED.reported_at - replay_watch.reported_at))
			       + ${REPLAY_SLACK_SECONDS} >= EXCLUDED.seconds
			RETURNING seconds`;
		const row = rows[0];
		if (!row) return { ok: false, reason: 'too_much' };
		return { ok: true, total: Number(row.seconds) };
	}
}
