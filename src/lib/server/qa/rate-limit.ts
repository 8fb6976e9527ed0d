import { randomUUID } from 'node:crypto';

/** At most `limit` hits per key within a window; `take` answers 0 or the ms to wait. */
export interface RateLimiter {
	take(key: string, now: number): number | Promise<number>;
}

/** Makes the limiter for one kind of action (questions, votes). */
export type RateLimiterFactory = (name: string, limit: number, windowMs: number) => RateLimiter;

/**
 * Sliding window kept in process memory: the embedded default. With several
 * app processes each would count on its own, so those use the Redis one.
 */
export class SlidingWindowLimiter implements RateLimiter {
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

// One sorted set of hit times per key, checked and added to atomically.
const SLIDING_WINDOW_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
	local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
	return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0`;

/** What the limiter needs of a node-redis client. */
type RedisCommands = { sendCommand(args: string[]): Promise<unknown> };

/** The same sliding window in Redis, so every app process counts a user's hits together. */
export class RedisSlidingWindowLimiter implements RateLimiter {
	constructor(
		private readonly redis: RedisCommands,
		private readonly prefix: string,
		readonly limit: number,
		readonly windowMs: number
	) {}

	async take(key: string, now: number): Promise<number> {
		const wait = await this.redis.sendCommand([
			'EVAL',
			SLIDING_WINDOW_SCRIPT,
			'1',
			`${this.prefix}:${key}`,
			String(now),
			String(this.windowMs),
			String(this.limit),
			`${now}:${randomUUID()}`
		]);
		return Number(wait);
	}
}

export const memoryRateLimiters: RateLimiterFactory = (_name, limit, windowMs) =>
	new SlidingWindowLimiter(limit, windowMs);

/** Limiters shared by all processes on this Redis, under `prefix`. */
export function redisRateLimiters(redis: RedisCommands, prefix: string): RateLimiterFactory {
	return (name, limit, windowMs) =>
		new RedisSlidingWindowLimiter(redis, `${prefix}:rate:${name}`, limit, windowMs);
}
