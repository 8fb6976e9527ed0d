import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassLifecycle } from '../../src/lib/server/class-lifecycle.ts';
import { EventBus } from '../../src/lib/server/events.ts';
import {
	Registrations,
	cancelRegistration,
	changeCapacity,
	register
} from '../../src/lib/server/registration.ts';
import { classDetails } from '../../src/lib/server/classes.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUser, makeUsers } from '../support/fixtures.ts';
import type { Db } from '../../src/lib/server/db/client.ts';

/**
 * Registration rules on the real database: PGlite on the default run, server
 * PostgreSQL when DATABASE_URL is set (a database shared with other test files,
 * so every test makes its own class and users).
 */
let t: TestDatabase;
let db: Db;
beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
});
afterAll(() => t?.close());

const HOUR = 3600_000;

async function state(classId: string) {
	const cls = await db.policyClass.findUniqueOrThrow({ where: { id: classId } });
	const regs = await db.registration.findMany({ where: { classId }, orderBy: { seq: 'asc' } });
	return {
		cls,
		regs,
		confirmed: regs.filter((r) => r.status === 'CONFIRMED'),
		waitlisted: regs.filter((r) => r.status === 'WAITLISTED'),
		cancelled: regs.filter((r) => r.status === 'CANCELLED')
	};
}

describe('register', () => {
	it('confirms up to capacity, then waitlists', async () => {
		const cls = await makeClass(db, { capacity: 2 });
		const [a, b, c, d] = await makeUsers(db, 4);
		const outcomes = [];
		for (const u of [a!, b!, c!, d!]) outcomes.push(await register(db, cls.id, u));
		expect(outcomes.map((o) => (o.ok ? o.status : o.reason))).toEqual([
			'CONFIRMED',
			'CONFIRMED',
			'WAITLISTED',
			'WAITLISTED'
		]);
		const s = await state(cls.id);
		expect(s.cls.confirmedCount).toBe(2);
		expect(s.confirmed.map((r) => r.userId)).toEqual([a, b]);
		expect(s.waitlisted.map((r) => r.userId)).toEqual([c, d]);
		expect(s.confirmed.every((r) => r.confirmedAt && !r.waitlistedAt)).toBe(true);
		expect(s.waitlisted.every((r) => r.waitlistedAt && !r.confirmedAt)).toBe(true);
	});

	it('stamps the registration with the instant it was made, in UTC', async () => {
		const cls = await makeClass(db, { capacity: 1 });
		const [first, second] = await makeUsers(db, 2);
		// Inside the class's registration window, with milliseconds that must survive.
		const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 456);
		const later = new Date(at.getTime() + 1000);
		await register(db, cls.id, first!, at);
		await register(db, cls.id, second!, later);
		const s = await state(cls.id);
		expect(s.confirmed[0]?.confirmedAt?.toISOString()).toBe(at.toISOString());
		expect(s.waitlisted[0]?.waitlistedAt?.toISOString()).toBe(later.toISOString());
	});

	it('allows one active registration per user, and a new one after cancelling', async () => {
		const cls = await makeClass(db, { capacity: 1 });
		const [a, b] = await makeUsers(db, 2);
		expect(await register(db, cls.id, a!)).toMatchObject({ ok: true, status: 'CONFIRMED' });
		expect(await register(db, cls.id, a!)).toEqual({ ok: false, reason: 'already_registered' });
		expect(await register(db, cls.id, b!)).toMatchObject({ ok: true, status: 'WAITLISTED' });
		expect(await register(db, cls.id, b!)).toEqual({ ok: false, reason: 'already_registered' });

		// Same user twice at once: exactly one gets in.
		const [c] = await makeUsers(db, 1);
		const both = await Promise.all([register(db, cls.id, c!), register(db, cls.id, c!)]);
		expect(both.filter((o) => o.ok)).toHaveLength(1);
		expect(both.filter((o) => !o.ok)).toEqual([{ ok: false, reason: 'already_registered' }]);

		expect(await cancelRegistration(db, cls.id, a!)).toMatchObject({ ok: true });
		// a's seat went to b; a may register again and joins the end of the waitlist.
		expect(await register(db, cls.id, a!)).toMatchObject({ ok: true, status: 'WAITLISTED' });
		const s = await state(cls.id);
		expect(s.confirmed.map((r) => r.userId)).toEqual([b]);
		expect(s.waitlisted.map((r) => r.userId)).toEqual([c, a]);
		expect(s.cancelled.map((r) => r.userId)).toEqual([a]);
		expect(s.cls.confirmedCount).toBe(1);
	});

	it('the database itself refuses a second active registration', async () => {
		const cls = await makeClass(db, { capacity: 5 });
		const user = await makeUser(db);
		const now = new Date();
		await db.registration.create({
			data: { classId: cls.id, userId: user.id, status: 'CONFIRMED', confirmedAt: now }
		});
		await expect(
			db.registration.create({
				data: { classId: cls.id, userId: user.id, status: 'WAITLISTED', waitlistedAt: now }
			})
		).rejects.toThrow(/registration_one_active_per_user|Unique constraint/);
		// Cancelled rows do not count.
		await db.registration.create({
			data: { classId: cls.id, userId: user.id, status: 'CANCELLED', cancelledAt: now }
		});
		await db.registration.create({
			data: { classId: cls.id, userId: user.id, status: 'CANCELLED', cancelledAt: now }
		});
		expect(await db.registration.count({ where: { classId: cls.id, userId: user.id } })).toBe(3);
	});

	it('the database itself refuses more confirmed seats than capacity', async () => {
		const cls = await makeClass(db, { capacity: 3 });
		await db.policyClass.update({ where: { id: cls.id }, data: { confirmedCount: 3 } });
		await expect(
			db.policyClass.update({ where: { id: cls.id }, data: { confirmedCount: 4 } })
		).rejects.toThrow(/policy_class_seats_within_capacity|check constraint/i);
		await expect(
			db.policyClass.update({ where: { id: cls.id }, data: { capacity: 2 } })
		).rejects.toThrow(/policy_class_seats_within_capacity|check constraint/i);
		await expect(
			db.policyClass.update({ where: { id: cls.id }, data: { confirmedCount: -1 } })
		).rejects.toThrow(/policy_class_seats_within_capacity|check constraint/i);
		expect((await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })).confirmedCount).toBe(
			3
		);
	});

	it('refuses outside the registration window and for cancelled or ended classes', async () => {
		const now = Date.now();
		const user = await makeUser(db);
		const early = await makeClass(db, {
			registrationOpensAt: new Date(now + HOUR),
			registrationClosesAt: new Date(now + 2 * HOUR)
		});
		const closed = await makeClass(db, {
			registrationOpensAt: new Date(now - 2 * HOUR),
			registrationClosesAt: new Date(now - HOUR)
		});
		const cancelled = await makeClass(db, { status: 'CANCELLED' });
		const ended = await makeClass(db, { status: 'ENDED' });
		expect(await register(db, early.id, user.id)).toEqual({ ok: false, reason: 'not_open_yet' });
		expect(await register(db, closed.id, user.id)).toEqual({
			ok: false,
			reason: 'registration_closed'
		});
		expect(await register(db, cancelled.id, user.id)).toEqual({
			ok: false,
			reason: 'class_cancelled'
		});
		expect(await register(db, ended.id, user.id)).toEqual({ ok: false, reason: 'class_ended' });
		expect(await register(db, '00000000-0000-4000-8000-000000000000', user.id)).toEqual({
			ok: false,
			reason: 'class_not_found'
		});
		// The exact boundaries, through the `now` parameter.
		expect(await register(db, early.id, user.id, new Date(now + HOUR))).toMatchObject({ ok: true });
		expect(await register(db, closed.id, user.id, new Date(now - HOUR))).toEqual({
			ok: false,
			reason: 'registration_closed'
		});
		expect(
			await db.registration.count({
				where: { userId: user.id, classId: { in: [closed.id, cancelled.id, ended.id] } }
			})
		).toBe(0);
		// A class that is live still takes registrations while its window is open.
		const live = await makeClass(db, { status: 'LIVE' });
		expect(await register(db, live.id, user.id)).toMatchObject({ ok: true, status: 'CONFIRMED' });
	});
});

describe('cancelRegistration', () => {
	it('gives a freed seat to the head of the waitlist, FIFO', async () => {
		const cls = await makeClass(db, { capacity: 2 });
		const users = await makeUsers(db, 6);
		for (const u of users) await register(db, cls.id, u);
		let s = await state(cls.id);
		const waitIds = s.waitlisted.map((r) => r.id);
		expect(waitIds).toHaveLength(4);

		// A waitlisted user leaving promotes nobody.
		expect(await cancelRegistration(db, cls.id, users[3]!)).toMatchObject({
			ok: true,
			promotedRegistrationIds: []
		});
		// Confirmed users leaving promote in arrival order, skipping the one who left.
		expect(await cancelRegistration(db, cls.id, users[0]!)).toMatchObject({
			ok: true,
			promotedRegistrationIds: [waitIds[0]]
		});
		expect(await cancelRegistration(db, cls.id, users[2]!)).toMatchObject({
			ok: true,
			promotedRegistrationIds: [waitIds[2]]
		});
		expect(await cancelRegistration(db, cls.id, users[0]!)).toEqual({
			ok: false,
			reason: 'not_registered'
		});
		s = await state(cls.id);
		expect(s.confirmed.map((r) => r.userId)).toEqual([users[1], users[4]]);
		expect(s.waitlisted.map((r) => r.userId)).toEqual([users[5]]);
		expect(s.cls.confirmedCount).toBe(2);
		const promoted = s.regs.find((r) => r.id === waitIds[0])!;
		expect(promoted.confirmedAt).not.toBeNull();
		expect(promoted.waitlistedAt).not.toBeNull();
	});

	it('refuses unknown classes and users who are not registered', async () => {
		const cls = await makeClass(db);
		const user = await makeUser(db);
		expect(await cancelRegistration(db, cls.id, user.id)).toEqual({
			ok: false,
			reason: 'not_registered'
		});
		expect(await cancelRegistration(db, '00000000-0000-4000-8000-000000000000', user.id)).toEqual({
			ok: false,
			reason: 'class_not_found'
		});
	});
});

describe('changeCapacity', () => {
	it('promotes from the waitlist when seats are added, and refuses going below confirmed', async () => {
		const cls = await makeClass(db, { capacity: 2 });
		const users = await makeUsers(db, 7);
		for (const u of users) await register(db, cls.id, u);
		const waitIds = (await state(cls.id)).waitlisted.map((r) => r.id);

		expect(await changeCapacity(db, cls.id, 1)).toEqual({
			ok: false,
			reason: 'below_confirmed',
			confirmedCount: 2
		});
		expect(await changeCapacity(db, cls.id, 5)).toMatchObject({
			ok: true,
			promotedRegistrationIds: waitIds.slice(0, 3)
		});
		let s = await state(cls.id);
		expect(s.cls.capacity).toBe(5);
		expect(s.cls.confirmedCount).toBe(5);
		expect(s.confirmed.map((r) => r.userId)).toEqual(users.slice(0, 5));
		// Shrinking to exactly the confirmed count is fine and promotes nobody.
		expect(await changeCapacity(db, cls.id, 5)).toMatchObject({
			ok: true,
			promotedRegistrationIds: []
		});
		// More seats than the waitlist: everyone gets in.
		expect(await changeCapacity(db, cls.id, 100)).toMatchObject({
			ok: true,
			promotedRegistrationIds: waitIds.slice(3)
		});
		s = await state(cls.id);
		expect(s.cls.confirmedCount).toBe(7);
		expect(s.waitlisted).toHaveLength(0);
		expect(await changeCapacity(db, '00000000-0000-4000-8000-000000000000', 3)).toEqual({
			ok: false,
			reason: 'class_not_found'
		});
	});

	it('saves the rest of an edit with the capacity, or none of it', async () => {
		const cls = await makeClass(db, { capacity: 2 });
		for (const u of await makeUsers(db, 2)) await register(db, cls.id, u);
		const before = await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } });
		const details = classDetails({
			...before,
			title: '改名后的课程',
			durationMinutes: 120
		});
		expect(await changeCapacity(db, cls.id, 1, { details })).toMatchObject({ ok: false });
		expect(await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })).toMatchObject({
			title: before.title,
			durationMinutes: before.durationMinutes,
			capacity: 2
		});
		expect(await changeCapacity(db, cls.id, 3, { details })).toMatchObject({ ok: true });
		expect(await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } })).toMatchObject({
			title: '改名后的课程',
			durationMinutes: 120,
			capacity: 3
		});
	});
});

describe('a cancelled class', () => {
	it('keeps its registrations for the notice and takes no more changes', async () => {
		const cls = await makeClass(db, { capacity: 1 });
		const users = await makeUsers(db, 3);
		for (const u of users) await register(db, cls.id, u);
		const admin = await makeUser(db, 'ADMIN');
		const lifecycle = new ClassLifecycle(
			db,
			EventBus.local(),
			new Registrations(db, EventBus.local())
		);
		expect(await lifecycle.cancel(cls.id, admin, '讲师临时出差')).toMatchObject({
			ok: true,
			changed: true
		});
		const s = await state(cls.id);
		expect(s.cls.status).toBe('CANCELLED');
		expect(s.cls.cancelReason).toBe('讲师临时出差');
		expect(s.cls.cancelledAt).not.toBeNull();
		expect(s.regs.map((r) => [r.userId, r.status])).toEqual([
			[users[0], 'CONFIRMED'],
			[users[1], 'WAITLISTED'],
			[users[2], 'WAITLISTED']
		]);

		const [late] = await makeUsers(db, 1);
		expect(await register(db, cls.id, late!)).toEqual({ ok: false, reason: 'class_cancelled' });
		expect(await cancelRegistration(db, cls.id, users[0]!)).toEqual({
			ok: false,
			reason: 'class_cancelled'
		});
		// More seats promote nobody into a class that no longer runs.
		expect(await changeCapacity(db, cls.id, 10)).toMatchObject({
			ok: true,
			promotedRegistrationIds: []
		});
		const after = await state(cls.id);
		expect(after.cls.confirmedCount).toBe(1);
		expect(after.waitlisted).toHaveLength(2);
	});
});

describe('cancellation window', () => {
	it('closes when the class starts, so attendance on record stays as it was', async () => {
		const startsAt = new Date(Date.now() + 3600_000);
		const cls = await makeClass(db, { startsAt, registrationClosesAt: startsAt });
		const [user] = await makeUsers(db, 1);
		expect(await register(db, cls.id, user!)).toMatchObject({ ok: true, status: 'CONFIRMED' });
		const atStart = new Date(startsAt.getTime());
		expect(await cancelRegistration(db, cls.id, user!, atStart)).toEqual({
			ok: false,
			reason: 'cancellation_closed'
		});
		await db.policyClass.update({ where: { id: cls.id }, data: { status: 'LIVE' } });
		expect(await cancelRegistration(db, cls.id, user!)).toEqual({
			ok: false,
			reason: 'cancellation_closed'
		});
		await db.policyClass.update({ where: { id: cls.id }, data: { status: 'ENDED' } });
		expect(await cancelRegistration(db, cls.id, user!)).toEqual({
			ok: false,
			reason: 'cancellation_closed'
		});
		const reg = await db.registration.findFirstOrThrow({ where: { classId: cls.id } });
		expect(reg.status).toBe('CONFIRMED');
	});
});
