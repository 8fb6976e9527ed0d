import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	RegistrationAllocator,
	cancelRegistration,
	register,
	registerBatch
} from '../../src/lib/server/registration.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUsers } from '../support/fixtures.ts';

/**
 * A burst of registrations for one class, all in flight at once: capacity
 * holds exactly and the waitlist keeps arrival order. Runs on PGlite (one
 * connection, transactions queue) and on server PostgreSQL (a pool of
 * connections racing for the class row lock).
 */
let t: TestDatabase;
beforeAll(async () => {
	t = await openTestDatabase();
});
afterAll(() => t?.close());

const SEATS = 50;
const REGISTRANTS = 300;

describe(`${REGISTRANTS} concurrent registrations for ${SEATS} seats`, () => {
	it('confirms exactly the seats, waitlists the rest, and promotes in arrival order', async () => {
		const { db } = t;
		const cls = await makeClass(db, { capacity: SEATS });
		const users = await makeUsers(db, REGISTRANTS);

		const started = performance.now();
		const outcomes = await Promise.all(users.map((u) => register(db, cls.id, u)));
		const burstMs = performance.now() - started;
		console.log(`[${t.kind}] ${REGISTRANTS} concurrent register(): ${burstMs.toFixed(0)} ms`);

		const failures = outcomes.filter((o) => !o.ok);
		expect(failures).toEqual([]);
		const byStatus = (s: string) => outcomes.filter((o) => o.ok && o.status === s).length;
		expect(byStatus('CONFIRMED')).toBe(SEATS);
		expect(byStatus('WAITLISTED')).toBe(REGISTRANTS - SEATS);

		const rows = await db.registration.findMany({
			where: { classId: cls.id },
			orderBy: { seq: 'asc' },
			select: { id: true, userId: true, status: true, seq: true }
		});
		expect(rows).toHaveLength(REGISTRANTS);
		expect(new Set(rows.map((r) => r.userId)).size).toBe(REGISTRANTS);
		const confirmed = rows.filter((r) => r.status === 'CONFIRMED');
		const waitlisted = rows.filter((r) => r.status === 'WAITLISTED');
		expect(confirmed).toHaveLength(SEATS);
		expect(waitlisted).toHaveLength(REGISTRANTS - SEATS);
		expect((await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })).confirmedCount).toBe(
			SEATS
		);
		// Seats went to the first arrivals: every confirmed row was inserted before any waitlisted one.
		expect(Math.max(...confirmed.map((r) => r.seq))).toBeLessThan(
			Math.min(...waitlisted.map((r) => r.seq))
		);
		// What each caller was told matches what was stored.
		const told = new Map(outcomes.map((o) => (o.ok ? [o.registrationId, o.status] : ['', ''])));
		for (const r of rows) expect(told.get(r.id)).toBe(r.status);

		// One by one: each cancellation promotes the next waitlisted registration.
		const promotedOneByOne: string[] = [];
		for (const r of confirmed.slice(0, 10)) {
			const outcome = await cancelRegistration(db, cls.id, r.userId);
			expect(outcome.ok).toBe(true);
			if (outcome.ok) promotedOneByOne.push(...outcome.promotedRegistrationIds);
		}
		expect(promotedOneByOne).toEqual(waitlisted.slice(0, 10).map((r) => r.id));

		// All at once: 30 more cancellations promote exactly the next 30, in seq order.
		const leaving = confirmed.slice(10, 40);
		const cancelled = await Promise.all(
			leaving.map((r) => cancelRegistration(db, cls.id, r.userId))
		);
		const promotedTogether = cancelled.flatMap((o) => (o.ok ? o.promotedRegistrationIds : []));
		expect(cancelled.every((o) => o.ok)).toBe(true);
		expect(new Set(promotedTogether)).toEqual(new Set(waitlisted.slice(10, 40).map((r) => r.id)));

		const after = await db.registration.findMany({
			where: { classId: cls.id, status: 'CONFIRMED' },
			orderBy: { seq: 'asc' },
			select: { id: true }
		});
		expect(after.map((r) => r.id)).toEqual([
			...confirmed.slice(40).map((r) => r.id),
			...waitlisted.slice(0, 40).map((r) => r.id)
		]);
		expect((await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })).confirmedCount).toBe(
			SEATS
		);
		expect(await db.registration.count({ where: { classId: cls.id, status: 'WAITLISTED' } })).toBe(
			REGISTRANTS - SEATS - 40
		);

		// A second burst mixing registrations and cancellations still never oversells.
		const newcomers = await makeUsers(db, 100);
		await Promise.all([
			...newcomers.map((u) => register(db, cls.id, u)),
			...confirmed.slice(40).map((r) => cancelRegistration(db, cls.id, r.userId))
		]);
		const final = await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } });
		const finalConfirmed = await db.registration.count({
			where: { classId: cls.id, status: 'CONFIRMED' }
		});
		expect(finalConfirmed).toBe(SEATS);
		expect(final.confirmedCount).toBe(SEATS);
	});
});

describe('the registration allocator', () => {
	it(`decides ${REGISTRANTS} concurrent registrations for ${SEATS} seats in arrival order`, async () => {
		const { db } = t;
		const cls = await makeClass(db, { capacity: SEATS });
		const users = await makeUsers(db, REGISTRANTS);
		// Two allocators stand for two app processes: each batches its own
		// arrivals, the database decides between them.
		const [a, b] = [new RegistrationAllocator(db), new RegistrationAllocator(db)];
		const outcomes = await Promise.all(
			users.map((u, i) => (i % 2 === 0 ? a : b).register(cls.id, u))
		);
		expect(outcomes.filter((o) => !o.ok)).toEqual([]);
		const confirmed = await db.registration.findMany({
			where: { classId: cls.id, status: 'CONFIRMED' },
			select: { userId: true }
		});
		expect(confirmed).toHaveLength(SEATS);
		expect((await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })).confirmedCount).toBe(
			SEATS
		);
		// Within each process, seats followed arrival order.
		for (const parity of [0, 1]) {
			const mine: string[] = users.filter((_, i) => i % 2 === parity);
			const seated = new Set(confirmed.map((r) => r.userId).filter((u) => mine.includes(u)));
			const expected = mine.slice(0, seated.size);
			expect([...seated].sort()).toEqual([...expected].sort());
		}
		// A second press by someone already registered changes nothing.
		expect(await a.register(cls.id, users[0]!)).toEqual({
			ok: false,
			reason: 'already_registered'
		});
	});

	it('gives seats in exactly the order requests arrive', async () => {
		const { db } = t;
		const cls = await makeClass(db, { capacity: 5 });
		const users = await makeUsers(db, 12);
		const allocator = new RegistrationAllocator(db);
		// One at a time with a small gap, not waiting for the answers.
		const pending: Promise<unknown>[] = [];
		for (const u of users) {
			pending.push(allocator.register(cls.id, u));
			await new Promise((resolve) => setImmediate(resolve));
		}
		await Promise.all(pending);
		const rows = await db.registration.findMany({
			where: { classId: cls.id },
			orderBy: { seq: 'asc' },
			select: { userId: true, status: true }
		});
		expect(rows.map((r) => r.userId)).toEqual(users);
		expect(rows.map((r) => r.status)).toEqual([
			...Array(5).fill('CONFIRMED'),
			...Array(7).fill('WAITLISTED')
		]);
	});

	it('answers each request of a mixed batch on its own terms', async () => {
		const { db } = t;
		const cls = await makeClass(db, { capacity: 2 });
		const [first, second, third] = await makeUsers(db, 3);
		const { outcomes } = await registerBatch(db, cls.id, [
			{ userId: first!, now: new Date() },
			{ userId: first!, now: new Date() },
			{ userId: second!, now: new Date(Date.now() + 30 * 24 * 3600_000) },
			{ userId: third!, now: new Date() }
		]);
		expect(outcomes.map((o) => (o.ok ? o.status : o.reason))).toEqual([
			'CONFIRMED',
			'already_registered',
			'registration_closed',
			'CONFIRMED'
		]);
	});
});
