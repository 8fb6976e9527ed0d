import type { Db } from './db/client.ts';

/**
 * Named leases in the database: work that only one process may do at a time
 * (a class's recording, its finishing and its MP4) is done by the process
 * holding the lease named for it. The database decides who holds a lease, by
 * its own clock, so processes on several hosts agree without trusting theirs.
 *
 * A holder renews what it holds while it runs; when it dies, its leases
 * expire after `ttlMs` and another process may take the work over. The
 * holder id is stable across restarts of one instance (host and port by
 * default), so a process restarted after a crash takes its leases back at
 * once instead of waiting for them to expire.
 */
export class Leases {
	readonly holder: string;
	readonly ttlMs: number;
	readonly #db: Db;
	readonly #held = new Set<string>();
	#timer: ReturnType<typeof setInterval> | null = null;

	constructor(db: Db, holder: string, options: { ttlMs?: number } = {}) {
		this.#db = db;
		this.holder = holder;
		this.ttlMs = options.ttlMs ?? 30_000;
	}

	/**
	 * Takes the lease, or renews it when this holder has it already. False
	 * while another holder's lease has not expired.
	 */
	async acquire(name: string): Promise<boolean> {
		const rows = await this.#db.$queryRaw<{ holder: string }[]>`
			INSERT INTO lease (name, holder, expires_at)
			VALUES (${name}, ${this.holder}, now() + make_interval(secs => ${this.ttlMs / 1000}))
			ON CONFLICT (name) DO UPDATE
			   SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
			 WHERE lease.holder = EXCLUDED.holder OR lease.expires_at < now()
			RETURNING holder`;
		const taken = rows.length === 1;
		if (taken) this.#held.add(name);
		else this.#held.delete(name);
		return taken;
	}

	/** Gives the lease up, so another process may take the work at once. */
	async release(name: string): Promise<void> {
		this.#held.delete(name);
		await this.#db.$executeRaw`DELETE FROM lease WHERE name = ${name} AND holder = ${this.holder}`;
	}

	/** Names starting with `prefix` whose leases expired: work their holders left unfinished. */
	async expired(prefix: string): Promise<string[]> {
		const rows = await this.#db.$queryRaw<{ name: string }[]>`
			SELECT name FROM lease WHERE starts_with(name, ${prefix}) AND expires_at < now()`;
		return rows.map((row) => row.name);
	}

	/** Whether this process holds the lease, as far as its last renewal knows. */
	holds(name: string): boolean {
		return this.#held.has(name);
	}

	/**
	 * Renews every lease held, in one statement. A lease that expired
	 * meanwhile (the process stalled for longer than `ttlMs`) and was taken by
	 * another holder is no longer held; its names are returned.
	 */
	async renew(): Promise<string[]> {
		if (this.#held.size === 0) return [];
		const names = [...this.#held];
		const rows = await this.#db.$queryRaw<{ name: string }[]>`
			UPDATE lease SET expires_at = now() + make_interval(secs => ${this.ttlMs / 1000})
			WHERE holder = ${this.holder} AND name = ANY(${names})
			RETURNING name`;
		const renewed = new Set(rows.map((row) => row.name));
		const lost = names.filter((name) => !renewed.has(name));
		for (const name of lost) this.#held.delete(name);
		return lost;
	}

	/** Renews what is held three times per lease term, until stop(). */
	start(): void {
		if (this.#timer) return;
		this.#timer = setInterval(() => {
			this.renew().then(
				(lost) => {
					if (lost.length > 0) console.error('[leases] lost to another process:', lost.join(', '));
				},
				(error: unknown) => console.error('[leases] renewal failed', error)
			);
		}, this.ttlMs / 3);
		this.#timer.unref();
	}

	/**
	 * Stops renewing. The leases are kept, not released: the work they cover
	 * is unfinished, and this instance, restarted, takes them back at once;
	 * otherwise another takes them when they expire.
	 */
	stop(): void {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
	}
}
