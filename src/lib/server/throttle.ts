import {
	RateLimiterMemory,
	RateLimiterRedis,
	RateLimiterRes,
	type RateLimiterAbstract
} from 'rate-limiter-flexible';

/**
 * Every throttle of the platform, on rate-limiter-flexible: counted in Redis
 * when REDIS_URL is set (one allowance however many app processes a client
 * reaches), in process memory otherwise.
 */
export type ThrottlePolicy = { points: number; durationSeconds: number };

export const THROTTLE_POLICIES = {
	/** Wrong passwords per account; the next attempt waits, longer each time. */
	loginAccount: { points: 5, durationSeconds: 60 },
	/** Wrong passwords per address (a service hall shares one, so generous). */
	loginAddress: { points: 50, durationSeconds: 600 },
	/** Lock-outs per account in a day; each doubles the next wait. */
	loginLockouts: { points: 1000, durationSeconds: 24 * 3600 },
	/** New accounts per address. */
	signup: { points: 20, durationSeconds: 3600 },
	/** Register / cancel presses per user. */
	registration: { points: 20, durationSeconds: 60 },
	/** Q&A joins per user (every reconnect joins again). */
	qaJoin: { points: 60, durationSeconds: 60 },
	qaQuestion: { points: 3, durationSeconds: 60 },
	qaVote: { points: 30, durationSeconds: 60 }
} satisfies Record<string, ThrottlePolicy>;

export type ThrottleName = keyof typeof THROTTLE_POLICIES;

/** The part of a node-redis client rate-limiter-flexible uses. */
export type ThrottleRedis = object;

export class Throttle {
	constructor(
		readonly policy: ThrottlePolicy,
		private readonly limiter: RateLimiterAbstract
	) {}

	/** Counts one hit. 0 when allowed, else the milliseconds until it would be. */
	async take(key: string): Promise<number> {
		try {
			await this.limiter.consume(key);
			return 0;
		} catch (err) {
			if (err instanceof RateLimiterRes) return Math.max(1, err.msBeforeNext);
			throw err;
		}
	}

	/** Milliseconds until the key may act again, counting nothing. */
	async wait(key: string): Promise<number> {
		const state = await this.limiter.get(key);
		if (!state || state.consumedPoints < this.policy.points) return 0;
		return Math.max(1, state.msBeforeNext);
	}

	/** Hits counted in the current window. */
	async count(key: string): Promise<number> {
		return (await this.limiter.get(key))?.consumedPoints ?? 0;
	}

	/** Refuse the key for `seconds`, whatever its count. */
	async block(key: string, seconds: number): Promise<void> {
		await this.limiter.block(key, seconds);
	}

	async reset(key: string): Promise<void> {
		await this.limiter.delete(key);
	}
}

export type Throttles = Record<ThrottleName, Throttle>;

export function createThrottles(
	options: {
		redis?: ThrottleRedis | null;
		/** Starts the throttles' Redis keys (REDIS_PREFIX's, in the app). */
		prefix?: string;
		policies?: Partial<Record<ThrottleName, ThrottlePolicy>>;
	} = {}
): Throttles {
	const prefix = options.prefix ?? 'throttle';
	const entries = Object.entries(THROTTLE_POLICIES).map(([name, base]) => {
		const policy = { ...base, ...options.policies?.[name as ThrottleName] };
		const common = {
			keyPrefix: `${prefix}:${name}`,
			points: policy.points,
			duration: policy.durationSeconds
		};
		const limiter = options.redis
			? new RateLimiterRedis({ ...common, storeClient: options.redis, useRedisPackage: true })
			: new RateLimiterMemory(common);
		return [name, new Throttle(policy, limiter)] as const;
	});
	return Object.fromEntries(entries) as Throttles;
}

/**
 * Sign-in protection: the wrong password that uses up an account's allowance
 * locks the account out; each further lock-out the same day doubles the wait
 * (1, 2, 4 ... minutes, at most a day). Addresses have their own, larger
 * allowance. The right password resets the account's count.
 */
export class LoginGuard {
	constructor(private readonly throttles: Throttles) {}

	/** Milliseconds the attempt must wait (0: go ahead), before any password is checked. */
	async wait(account: string, address: string): Promise<number> {
		const [byAccount, byAddress] = await Promise.all([
			this.throttles.loginAccount.wait(account),
			this.throttles.loginAddress.wait(address)
		]);
		return Math.max(byAccount, byAddress);
	}

	async failed(account: string, address: string): Promise<void> {
		await this.throttles.loginAddress.take(address);
		await this.throttles.loginAccount.take(account);
		const { loginAccount, loginLockouts } = this.throttles;
		if ((await loginAccount.count(account)) < loginAccount.policy.points) return;
		await loginLockouts.take(account);
		const lockouts = Math.max(1, await loginLockouts.count(account));
		const seconds = Math.min(24 * 3600, loginAccount.policy.durationSeconds * 2 ** (lockouts - 1));
		await loginAccount.block(account, seconds);
	}

	async succeeded(account: string): Promise<void> {
		await this.throttles.loginAccount.reset(account);
	}
}
