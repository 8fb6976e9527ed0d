/**
 * Sliding-window limiter kept in process memory: at most `limit` hits per key
 * within `windowMs`. With several app processes each enforces its own window
 * (a user pinned to one connection talks to one process).
 */
export class SlidingWindowLimiter {
	private readonly hits = new Map<string, number[]>();
	private lastSweep = 0;

	constructor(
		readonly limit: number,
		readonly windowMs: number
	) {}

	/** Record a hit if allowed; returns the ms to wait when refused, or 0 when allowed. */
	take(key: string, now = Date.now()): number {
		this.sweep(now);
		const since = now - this.windowMs;
		const list = (this.hits.get(key) ?? []).filter((t) => t > since);
		if (list.length >= this.limit) {
			this.hits.set(key, list);
			return list[0]! + this.windowMs - now;
		}
		list.push(now);
		this.hits.set(key, list);
		return 0;
	}

	private sweep(now: number) {
		if (now - this.lastSweep < this.windowMs) return;
		this.lastSweep = now;
		for (const [key, list] of this.hits) {
			if (list.every((t) => t <= now - this.windowMs)) this.hits.delete(key);
		}
	}
}
