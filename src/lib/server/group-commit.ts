/**
 * Group commit for hot paths: work that arrives while the previous batch of
 * the same key is being done waits, and goes into the next batch, so a burst
 * (the minute registration opens, the minute a class starts) costs a few
 * round trips instead of one per request. Batches of one key run one after
 * another, in arrival order; different keys run side by side.
 */
type Waiting<I, O> = { item: I; resolve: (output: O) => void; reject: (error: unknown) => void };

type Options = { maxBatch: number; windowMs?: number };

/**
 * Reads and writes of the rush minutes (registration opening, class start):
 * a 5 ms window lets the first batch gather the requests arriving just after
 * it (without one, a rush of 5,000 joins ran as ~1,500 batches of three), at
 * a cost no single user notices.
 */
const RUSH: Options = { maxBatch: 500, windowMs: 5 };

export class GroupCommit<I, O> {
	readonly #queues = new Map<string, Waiting<I, O>[]>();

	/**
	 * `run` does one batch and answers each item, in order. `windowMs` lets the
	 * first batch gather what arrives just after the first item.
	 */
	constructor(
		readonly run: (key: string, items: I[]) => Promise<O[]>,
		readonly options: Options = RUSH
	) {}

	add(key: string, item: I): Promise<O> {
		return new Promise((resolve, reject) => {
			const queue = this.#queues.get(key);
			if (queue) {
				queue.push({ item, resolve, reject });
				return;
			}
			const fresh = [{ item, resolve, reject }];
			this.#queues.set(key, fresh);
			const drain = () => void this.#drain(key, fresh);
			if (this.options.windowMs) setTimeout(drain, this.options.windowMs);
			else setImmediate(drain);
		});
	}

	async #drain(key: string, queue: Waiting<I, O>[]): Promise<void> {
		while (queue.length > 0) {
			const batch = queue.splice(0, this.options.maxBatch);
			try {
				const outputs = await this.run(
					key,
					batch.map((w) => w.item)
				);
				batch.forEach((w, i) => w.resolve(outputs[i]!));
			} catch (error) {
				for (const w of batch) w.reject(error);
			}
		}
		this.#queues.delete(key);
	}
}
