import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Leases } from '../../src/lib/server/leases.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * Leases on the real database (PGlite, and PostgreSQL when DATABASE_URL is
 * set). A holder's death is its lease's expiry, written into the row: the
 * database's clock decides, as it does for processes on several hosts.
 */
describe('leases', () => {
	let t: TestDatabase;

	beforeAll(async () => {
		t = await openTestDatabase();
	});

	afterAll(async () => {
		await t?.close();
	});

	/** Each test's own lease, and two processes that want it. */
	function contenders() {
		const name = `test:${randomUUID()}`;
		return { name, a: new Leases(t.db, `a-${name}`), b: new Leases(t.db, `b-${name}`) };
	}

	const expire = (name: string) =>
		t.db
			.$executeRaw`UPDATE lease SET expires_at = now() - interval '1 second' WHERE name = ${name}`;

	it('has one holder at a time, even when both ask at once', async () => {
		const { name, a, b } = contenders();
		const [byA, byB] = await Promise.all([a.acquire(name), b.acquire(name)]);
		expect([byA, byB].sort()).toEqual([false, true]);
		const [holder, other] = byA ? [a, b] : [b, a];
		expect(holder.holds(name)).toBe(true);
		expect(other.holds(name)).toBe(false);
		expect(await holder.acquire(name)).toBe(true);
		expect(await other.acquire(name)).toBe(false);
	});

	it('passes on when its holder releases it or lets it expire', async () => {
		const { name, a, b } = contenders();
		expect(await a.acquire(name)).toBe(true);
		await a.release(name);
		expect(a.holds(name)).toBe(false);
		expect(await b.acquire(name)).toBe(true);

		await expire(name);
		expect(await a.acquire(name)).toBe(true);
		// The old holder's release does not take it from the new one.
		await b.release(name);
		expect(await b.acquire(name)).toBe(false);
	});

	it('is taken back at once by its holder restarted, and renewal keeps it', async () => {
		const { name, a } = contenders();
		expect(await a.acquire(name)).toBe(true);
		const restarted = new Leases(t.db, a.holder);
		expect(await restarted.acquire(name)).toBe(true);

		const [before] = await t.db.lease.findMany({ where: { name } });
		expect(await restarted.renew()).toEqual([]);
		const [after] = await t.db.lease.findMany({ where: { name } });
		expect(after!.expiresAt.getTime()).toBeGreaterThanOrEqual(before!.expiresAt.getTime());
	});

	it('tells a holder that stalled past expiry what it lost', async () => {
		const { name, a, b } = contenders();
		const kept = `${name}:kept`;
		expect(await a.acquire(name)).toBe(true);
		expect(await a.acquire(kept)).toBe(true);
		await expire(name);
		expect(await b.acquire(name)).toBe(true);
		expect(await a.renew()).toEqual([name]);
		expect(a.holds(name)).toBe(false);
		expect(a.holds(kept)).toBe(true);
		expect(await a.expired('test:')).not.toContain(kept);
		await expire(kept);
		expect(await b.expired(name)).toEqual([kept]);
	});
});
