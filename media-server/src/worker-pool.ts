import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { workerPortRange, type MediaServerConfig } from './config.js';
import type { MediaLogger } from './logger.js';

export interface WorkerDiedEvent {
	slot: number;
	pid: number;
	error: Error;
}

export interface WorkerReplacedEvent {
	slot: number;
	oldPid: number;
	pid: number;
}

export interface WorkerPoolEvents {
	workerDied: [WorkerDiedEvent];
	workerReplaced: [WorkerReplacedEvent];
}

export interface WorkerStats {
	slot: number;
	pid: number;
	routerCount: number;
	/** User plus system CPU time the worker process used so far, in ms. */
	cpuTimeMs: number;
}

/**
 * Owns one mediasoup worker per slot (one per core by default). A worker that
 * dies is replaced in the same slot with the same port range; rooms learn of
 * the loss through their routers' 'workerclose' and rebuild on any live worker.
 *
 * mediasoup 3.12 has no log listener API: the C++ worker's own warnings go
 * through mediasoup's `debug` namespaces (DEBUG=mediasoup:WARN*,mediasoup:ERROR*).
 * The pool reports worker lifecycle to the logger passed in.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
	readonly #config: MediaServerConfig;
	readonly #logger: MediaLogger;
	readonly #slots: (types.Worker | undefined)[];
	readonly #routerCounts = new Map<types.Worker, number>();
	#waiters: (() => void)[] = [];
	#closed = false;

	private constructor(config: MediaServerConfig, logger: MediaLogger) {
		super();
		this.#config = config;
		this.#logger = logger;
		this.#slots = new Array<types.Worker | undefined>(config.numWorkers).fill(undefined);
	}

	static async create(config: MediaServerConfig, logger: MediaLogger): Promise<WorkerPool> {
		const pool = new WorkerPool(config, logger);
		try {
			await Promise.all(pool.#slots.map((_, slot) => pool.#spawn(slot)));
		} catch (error) {
			pool.close();
			throw error;
		}
		return pool;
	}

	/** Live workers, in slot order. */
	get workers(): types.Worker[] {
		return this.#slots.filter((w): w is types.Worker => w !== undefined && !w.closed);
	}

	/** The live worker with the fewest routers; waits while every worker is being replaced. */
	async pick(): Promise<types.Worker> {
		for (;;) {
			if (this.#closed) throw new Error('worker pool is closed');
			const worker = this.pickExcept(new Set());
			if (worker) return worker;
			await new Promise<void>((resolve) => this.#waiters.push(resolve));
		}
	}

	/** The live worker with the fewest routers among those not in `used`, if any. */
	pickExcept(used: ReadonlySet<types.Worker>): types.Worker | undefined {
		const count = (w: types.Worker) => this.#routerCounts.get(w) ?? 0;
		let best: types.Worker | undefined;
		for (const w of this.workers) {
			if (!used.has(w) && (!best || count(w) < count(best))) best = w;
		}
		return best;
	}

	async getStats(): Promise<WorkerStats[]> {
		const stats = await Promise.all(
			this.#slots.map(async (worker, slot) => {
				if (!worker || worker.closed) return undefined;
				const usage = await worker.getResourceUsage();
				return {
					slot,
					pid: worker.pid,
					routerCount: this.#routerCounts.get(worker) ?? 0,
					cpuTimeMs: usage.ru_utime + usage.ru_stime
				};
			})
		);
		return stats.filter((s): s is WorkerStats => s !== undefined);
	}

	close(): void {
		this.#closed = true;
		for (const worker of this.#slots) worker?.close();
		this.#wakeWaiters();
	}

	async #spawn(slot: number): Promise<types.Worker> {
		const worker = await mediasoup.createWorker({
			logLevel: this.#config.workerLogLevel,
			...workerPortRange(this.#config, slot),
			appData: { slot }
		});
		if (this.#closed) {
			worker.close();
			throw new Error('worker pool is closed');
		}
		this.#slots[slot] = worker;
		this.#routerCounts.set(worker, 0);
		worker.observer.on('newrouter', (router) => {
			this.#routerCounts.set(worker, (this.#routerCounts.get(worker) ?? 0) + 1);
			router.observer.once('close', () => {
				const count = this.#routerCounts.get(worker);
				if (count !== undefined) this.#routerCounts.set(worker, count - 1);
			});
		});
		worker.on('died', (error) => this.#onDied(slot, worker, error));
		this.#logger.info('mediasoup worker started', { slot, pid: worker.pid });
		this.#wakeWaiters();
		return worker;
	}

	#onDied(slot: number, worker: types.Worker, error: Error): void {
		this.#routerCounts.delete(worker);
		if (this.#slots[slot] === worker) this.#slots[slot] = undefined;
		this.#logger.error('mediasoup worker died', { slot, pid: worker.pid, error: error.message });
		this.emit('workerDied', { slot, pid: worker.pid, error });
		void this.#replace(slot, worker.pid);
	}

	async #replace(slot: number, oldPid: number): Promise<void> {
		while (!this.#closed) {
			try {
				const worker = await this.#spawn(slot);
				this.emit('workerReplaced', { slot, oldPid, pid: worker.pid });
				return;
			} catch (error) {
				if (this.#closed) return;
				this.#logger.error('could not start replacement mediasoup worker', {
					slot,
					error: error instanceof Error ? error.message : String(error)
				});
				await sleep(this.#config.respawnDelayMs);
			}
		}
	}

	#wakeWaiters(): void {
		const waiters = this.#waiters;
		this.#waiters = [];
		for (const wake of waiters) wake();
	}
}
