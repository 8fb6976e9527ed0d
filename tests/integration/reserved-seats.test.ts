import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classDetails } from '../../src/lib/server/classes.ts';
import type { Db } from '../../src/lib/server/db/client.ts';
import { EventBus, type AccessChanged } from '../../src/lib/server/events.ts';
import { ClassEmails } from '../../src/lib/server/mail/class-emails.ts';
import {
	RegistrationAllocator,
	Registrations,
	cancelRegistration,
	changeCapacity,
	register,
	type RegistrationOutcome
} from '../../src/lib/server/registration.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUsers } from '../support/fixtures.ts';

/**
 * 爱心专座 (reserved priority seats) on the real database: PGlite, and server
 * PostgreSQL when DATABASE_URL is set (a pool of connections racing for the
 * class row lock). Time is driven by passing `now`.
 */
let t: TestDatabase;
let db: Db;
beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
});
afterAll(() => t?.close());

const HOUR = 3600_000;
const SEATS = 50;
const RESERVED = 10;
const REGISTRANTS = 300;
// Every fifth registrant asked for priority service: 60 of 300.
const isPriority = (i: number) => i % 5 === 0;

async function rowsOf(classId: string) {
	return db.registration.findMany({
		where: { classId },
		orderBy: { seq: 'asc' },
		select: { id: true, userId: true, status: true, reservedSeat: true }
	});
}

/**
 * Seats went in arrival (seq) order within each pool: the reserved seats to
 * the first priority registrants, the general seats to the first of everyone
 * else (priority registrants past the reserved seats included); the rest wait.
 */
async function expectPoolsInArrivalOrder(classId: string, priority: Set<string>) {
	const rows = await rowsOf(classId);
	const confirmed = rows.filter((r) => r.status === 'CONFIRMED');
	const holders = rows.filter((r) => r.reservedSeat);
	expect(confirmed).toHaveLength(SEATS);
	expect(holders.length).toBeLessThanOrEqual(RESERVED);
	// More priority registrants than reserved seats: every reserved seat is taken.
	expect(holders).toHaveLength(RESERVED);
	expect(holders.every((r) => r.status === 'CONFIRMED' && priority.has(r.userId))).toBe(true);
	const priorityRows = rows.filter((r) => priority.has(r.userId));
	expect(holders.map((r) => r.id)).toEqual(priorityRows.slice(0, RESERVED).map((r) => r.id));
	const others = rows.filter((r) => !r.reservedSeat);
	const general = SEATS - RESERVED;
	expect(others.slice(0, general).every((r) => r.status === 'CONFIRMED')).toBe(true);
	expect(others.slice(general).every((r) => r.status === 'WAITLISTED')).toBe(true);
	const cls = await db.policyClass.findUniqueOrThrow({ where: { id: classId } });
	expect(cls.confirmedCount).toBe(SEATS);
	expect(cls.reservedConfirmedCount).toBe(RESERVED);
	return rows;
}

function expectToldAsStored(
	outcomes: RegistrationOutcome[],
	rows: { id: string; status: string }[]
) {
	expect(outcomes.filter((o) => !o.ok)).toEqual([]);
	const told = new Map(outcomes.map((o) => (o.ok ? [o.registrationId, o.status] : ['', ''])));
	for (const r of rows) expect(told.get(r.id)).toBe(r.status);
}

describe(`${REGISTRANTS} concurrent registrations (60 priority) for ${SEATS} seats, ${RESERVED} reserved`, () => {
	it('each on its own transaction: no oversell, each pool in arrival order', async () => {
		const cls = await makeClass(db, { capacity: SEATS, reservedSeats: RESERVED });
		const users = await makeUsers(db, REGISTRANTS, isPriority);
		const priority = new Set<string>(users.filter((_, i) => isPriority(i)));

		const outcomes = await Promise.all(users.map((u) => register(db, cls.id, u)));
		const rows = await expectPoolsInArrivalOrder(cls.id, priority);
		expectToldAsStored(outcomes, rows);

		// A freed general seat goes to the head of the waitlist, whoever it is;
		// a freed reserved seat to the first waiting priority registrant.
		const waiting = rows.filter((r) => r.status === 'WAITLISTED');
		const generalHolder = rows.find((r) => r.status === 'CONFIRMED' && !r.reservedSeat)!;
		const reservedHolder = rows.find((r) => r.reservedSeat)!;
		expect(await cancelRegistration(db, cls.id, generalHolder.userId)).toMatchObject({
			promotedRegistrationIds: [waiting[0]!.id]
		});
		const firstPriorityWaiting = waiting.slice(1).find((r) => priority.has(r.userId))!;
		expect(await cancelRegistration(db, cls.id, reservedHolder.userId)).toMatchObject({
			promotedRegistrationIds: [firstPriorityWaiting.id]
		});
		const after = await db.registration.findUniqueOrThrow({
			where: { id: firstPriorityWaiting.id }
		});
		expect(after).toMatchObject({ status: 'CONFIRMED', reservedSeat: true });
		const counters = await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } });
		expect(counters).toMatchObject({ confirmedCount: SEATS, reservedConfirmedCount: RESERVED });
	});

	it('through two allocators (two processes): no oversell, each pool in arrival order', async () => {
		const cls = await makeClass(db, { capacity: SEATS, reservedSeats: RESERVED });
		const users = await makeUsers(db, REGISTRANTS, isPriority);
		const priority = new Set<string>(users.filter((_, i) => isPriority(i)));
		const [a, b] = [new RegistrationAllocator(db), new RegistrationAllocator(db)];
		const outcomes = await Promise.all(
			users.map((u, i) => (i % 2 === 0 ? a : b).register(cls.id, u))
		);
		expectToldAsStored(outcomes, await expectPoolsInArrivalOrder(cls.id, priority));
		expect(await a.register(cls.id, users[0]!)).toEqual({
			ok: false,
			reason: 'already_registered'
		});
	});
});

/** Registrations on one bus, the access changes they announce, and the class emails queued. */
function app() {
	const events = EventBus.local();
	const seen: AccessChanged[] = [];
	events.on('access.changed', 'origin', (e) => void seen.push(e));
	const emails = new ClassEmails(db, events, {
		site: { origin: 'http://classroom.test', from: 'noreply@classroom.test' },
		transport: null
	});
	emails.start();
	const promoted = (classId: string) =>
		seen.filter((e) => e.reason === 'promoted' && e.classId === classId).map((e) => e.userId);
	return { events, seen, promoted, emails };
}

describe('the release of reserved seats', () => {
	it('at the release time gives the seats left to the waitlist in its order, once', async () => {
		const { events, seen, promoted, emails } = app();
		const releaseAt = new Date(Date.now() + HOUR);
		const before = new Date(releaseAt.getTime() - 60_000);
		const cls = await makeClass(db, {
			capacity: 6,
			reservedSeats: 3,
			reservedReleaseAt: releaseAt
		});
		const [keen, ...others] = await makeUsers(db, 7, (i) => i === 0);
		// Two app processes on one bus.
		const [a, b] = [new Registrations(db, events), new Registrations(db, events)];
		// Three general seats, then a waitlist of three; the priority registrant
		// takes a reserved seat, two stay free for priority registrants.
		for (const u of others) await a.register(cls.id, u!, before);
		expect(await b.register(cls.id, keen!, before)).toMatchObject({ status: 'CONFIRMED' });
		const waiting = others.slice(3);

		await a.releaseReservedSeats(new Date(releaseAt.getTime() - 1));
		expect(promoted(cls.id)).toEqual([]);
		expect(await db.registration.count({ where: { classId: cls.id, status: 'WAITLISTED' } })).toBe(
			3
		);

		// Both processes' sweeps, and a late one: the release happens once.
		await Promise.all([
			a.releaseReservedSeats(releaseAt),
			b.releaseReservedSeats(releaseAt),
			a.releaseReservedSeats(new Date(releaseAt.getTime() + 1000))
		]);
		expect(promoted(cls.id)).toEqual(waiting.slice(0, 2));
		const after = await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } });
		expect(after).toMatchObject({ confirmedCount: 6, reservedConfirmedCount: 1 });
		// Whichever sweep came first.
		expect(after.reservedReleasedAt!.getTime()).toBeGreaterThanOrEqual(releaseAt.getTime());
		expect(
			await db.registration.findMany({
				where: { classId: cls.id, status: 'WAITLISTED' },
				select: { userId: true }
			})
		).toEqual([{ userId: waiting[2] }]);
		// The same emails as any promotion: the promoted registrants are told.
		const mails = await db.mailJob.findMany({
			where: { classId: cls.id, kind: 'PROMOTED' },
			select: { userId: true }
		});
		expect(mails.map((m) => m.userId).sort()).toEqual(waiting.slice(0, 2).sort());

		// Afterwards a freed seat (even a reserved one) is anyone's: the head of the waitlist.
		seen.length = 0;
		await a.cancel(cls.id, keen!, new Date(releaseAt.getTime() + 2000));
		expect(promoted(cls.id)).toEqual([waiting[2]]);
		await emails.stop();
	});

	it('is made by the first registration after the release time, before the newcomer', async () => {
		const { events, promoted, emails } = app();
		const releaseAt = new Date(Date.now() + HOUR);
		const cls = await makeClass(db, {
			capacity: 4,
			reservedSeats: 2,
			reservedReleaseAt: releaseAt
		});
		const users = await makeUsers(db, 5);
		const registrations = new Registrations(db, events);
		for (const u of users.slice(0, 4)) {
			await registrations.register(cls.id, u, new Date(releaseAt.getTime() - 1000));
		}
		// No sweep ran: the newcomer's transaction releases, the waitlist goes first.
		const late = await registrations.register(cls.id, users[4]!, releaseAt);
		expect(late).toMatchObject({ ok: true, status: 'WAITLISTED' });
		expect(promoted(cls.id)).toEqual(users.slice(2, 4));
		expect(
			(await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })).reservedReleasedAt
		).toEqual(releaseAt);
		await emails.stop();
	});

	it('defaults to 24 hours before the start', async () => {
		const { events, promoted, emails } = app();
		const startsAt = new Date(Date.now() + 3 * 24 * HOUR);
		const cls = await makeClass(db, { capacity: 1, reservedSeats: 1, startsAt });
		const [waiter] = await makeUsers(db, 1);
		const registrations = new Registrations(db, events);
		await registrations.register(cls.id, waiter!);
		await registrations.releaseReservedSeats(new Date(startsAt.getTime() - 24 * HOUR - 1));
		expect(promoted(cls.id)).toEqual([]);
		await registrations.releaseReservedSeats(new Date(startsAt.getTime() - 24 * HOUR));
		expect(promoted(cls.id)).toEqual([waiter]);
		await emails.stop();
	});
});

describe('staff changing the reserved seats', () => {
	it('cannot reserve seats general registrants hold, nor add any once released', async () => {
		const cls = await makeClass(db, { capacity: 5 });
		const users = await makeUsers(db, 5, (i) => i === 4);
		for (const u of users.slice(0, 4)) await register(db, cls.id, u);
		const detailsWith = async (reservedSeats: number, reservedReleaseAt: Date | null = null) =>
			classDetails({
				...(await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })),
				reservedSeats,
				reservedReleaseAt
			});

		expect(await changeCapacity(db, cls.id, 5, { details: await detailsWith(3) })).toEqual({
			ok: false,
			reason: 'reserved_over_free',
			reservedMax: 1
		});
		expect(await changeCapacity(db, cls.id, 5, { details: await detailsWith(1) })).toMatchObject({
			ok: true
		});
		expect(await register(db, cls.id, users[4]!)).toMatchObject({ status: 'CONFIRMED' });
		// Fewer reserved seats than holders: the holder's seat becomes a general one.
		expect(await changeCapacity(db, cls.id, 5, { details: await detailsWith(0) })).toMatchObject({
			ok: true
		});
		expect(await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })).toMatchObject({
			confirmedCount: 5,
			reservedSeats: 0,
			reservedConfirmedCount: 0
		});

		// Released: no more reserved seats, no other release time.
		const releasedAt = new Date(Date.now() - 1000);
		expect(
			await changeCapacity(db, cls.id, 6, { details: await detailsWith(1, releasedAt) })
		).toMatchObject({ ok: true });
		expect(
			(await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })).reservedReleasedAt
		).not.toBeNull();
		for (const [seats, at] of [
			[2, releasedAt],
			[1, new Date(Date.now() + HOUR)]
		] as const) {
			expect(
				await changeCapacity(db, cls.id, 6, { details: await detailsWith(seats, at) })
			).toEqual({ ok: false, reason: 'reserved_released' });
		}
	});

	it('the database refuses counters that break the pools', async () => {
		const cls = await makeClass(db, { capacity: 3, reservedSeats: 2 });
		const [u] = await makeUsers(db, 1);
		await register(db, cls.id, u!);
		// One general seat, taken: a second general registrant cannot be counted in.
		await expect(
			db.$executeRaw`UPDATE policy_class SET confirmed_count = 2 WHERE id = ${cls.id}`
		).rejects.toThrow();
		await expect(
			db.$executeRaw`UPDATE policy_class SET reserved_seats = 4 WHERE id = ${cls.id}`
		).rejects.toThrow();
		await expect(
			db.$executeRaw`UPDATE policy_class SET reserved_confirmed_count = 1 WHERE id = ${cls.id}`
		).resolves.toBe(1);
		await expect(
			db.$executeRaw`UPDATE policy_class SET reserved_confirmed_count = 2 WHERE id = ${cls.id}`
		).rejects.toThrow();
	});
});
