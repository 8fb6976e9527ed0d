import type { MediaService } from '../../../media-server/src/index.ts';
import type { Db } from './db/client.ts';

/**
 * Each app process reports itself in the database at every beat: that it
 * runs, and its media load and connections. The operations page reads every
 * process's report from there, so it sees the whole deployment from any one
 * process. A process that stops beating is shown as not answering.
 */

/** What a process reports of itself. */
export type InstanceLoad = {
	/** Its mediasoup workers, with the CPU each used since the previous beat (% of one core). */
	workers: { slot: number; pid: number; cpuPercent: number | null }[];
	/** False when its media server could not be read (it failed to start). */
	mediaUp: boolean;
	/**
	 * The media server it relays live classes to, whose workers and rooms
	 * these are (every process using it reports them); null: its own.
	 */
	mediaServer: string | null;
	consumers: number;
	/** Consumers scored LOSSY_SCORE or lower: their viewers report packet loss. */
	lossyConsumers: number;
	/** socket.io connections. */
	connections: number;
	/** Each class with a media room in this process. */
	classes: { classId: string; publishers: number; viewers: number; consumers: number }[];
};

/** mediasoup scores a consumer 0-10 from the loss its receiver reports; 10 is clean. */
const LOSSY_SCORE = 7;

/** Beats a process may miss before it counts as not answering. */
const MISSED_BEATS = 3;

export type InstanceState = 'up' | 'silent' | 'stopped';

export type InstanceReport = {
	id: string;
	pid: number;
	startedAt: Date;
	seenAt: Date;
	state: InstanceState;
	load: InstanceLoad;
};

export class Instances {
	readonly #db: Db;
	readonly #media: () => Promise<MediaService>;
	readonly #connections: () => number;
	readonly #startedAt = new Date();
	/** Each worker's CPU time at the previous beat, for its use since. */
	#lastCpu = new Map<number, { pid: number; cpuTimeMs: number; at: number }>();
	#timer: ReturnType<typeof setInterval> | null = null;

	constructor(
		db: Db,
		readonly id: string,
		deps: { media: () => Promise<MediaService>; connections: () => number },
		readonly intervalMs = 10_000
	) {
		this.#db = db;
		this.#media = deps.media;
		this.#connections = deps.connections;
	}

	/** Reports now, then at every interval until stop(). */
	async start(): Promise<void> {
		if (this.#timer) return;
		this.#timer = setInterval(() => {
			this.beat().catch((error: unknown) => console.error('[instances] report failed', error));
		}, this.intervalMs);
		this.#timer.unref();
		await this.beat();
	}

	/** Says this process stopped, so the page does not wait for it to miss its beats. */
	async stop(): Promise<void> {
		if (!this.#timer) return;
		clearInterval(this.#timer);
		this.#timer = null;
		await this.#db.$executeRaw`UPDATE app_instance SET stopped_at = now() WHERE id = ${this.id}`;
	}

	/** Writes this process's report; reports not renewed for a day are dropped. */
	async beat(): Promise<void> {
		const load = JSON.stringify(await this.#load());
		await this.#db.$executeRaw`
			INSERT INTO app_instance (id, pid, started_at, seen_at, stopped_at, load)
			VALUES (${this.id}, ${process.pid}, ${this.#startedAt}, now(), NULL, ${load}::jsonb)
			ON CONFLICT (id) DO UPDATE
			   SET pid = EXCLUDED.pid, started_at = EXCLUDED.started_at, seen_at = now(),
			       stopped_at = NULL, load = EXCLUDED.load`;
		await this.#db.$executeRaw`DELETE FROM app_instance WHERE seen_at < now() - interval '1 day'`;
	}

	/** Every process's last report, with whether it still answers by the database's clock. */
	async list(): Promise<InstanceReport[]> {
		const silentAfter = (this.intervalMs * MISSED_BEATS) / 1000;
		return this.#db.$queryRaw<InstanceReport[]>`
			SELECT id, pid, started_at AS "startedAt", seen_at AS "seenAt", load,
			       CASE WHEN stopped_at IS NOT NULL THEN 'stopped'
			            WHEN seen_at > now() - make_interval(secs => ${silentAfter}) THEN 'up'
			            ELSE 'silent' END AS state
			FROM app_instance ORDER BY id`;
	}

	async #load(): Promise<InstanceLoad> {
		const connections = this.#connections();
		const server = await this.#media().catch(() => null);
		const media = await server?.getLoad().catch(() => null);
		if (!server || !media) {
			return {
				workers: [],
				mediaUp: false,
				mediaServer: null,
				consumers: 0,
				lossyConsumers: 0,
				connections,
				classes: []
			};
		}
		const now = Date.now();
		const workers = media.workers.map(({ slot, pid, cpuTimeMs }) => {
			const last = this.#lastCpu.get(slot);
			this.#lastCpu.set(slot, { pid, cpuTimeMs, at: now });
			// A replaced worker starts its CPU time again: no figure until its second beat.
			const cpuPercent =
				last && last.pid === pid && now > last.at
					? Math.round(((cpuTimeMs - last.cpuTimeMs) / (now - last.at)) * 100)
					: null;
			return { slot, pid, cpuPercent };
		});
		return {
			workers,
			mediaUp: true,
			mediaServer: server.serverId,
			consumers: media.consumers,
			lossyConsumers: media.consumerScores.slice(0, LOSSY_SCORE + 1).reduce((sum, n) => sum + n, 0),
			connections,
			classes: media.classes.map((room) => ({
				classId: room.classId,
				publishers: room.peers.publisher + room.peers.interpreter,
				viewers: room.peers.viewer,
				consumers: room.consumers
			}))
		};
	}
}
