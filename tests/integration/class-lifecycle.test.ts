import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classDetails } from '../../src/lib/server/classes.ts';
import { ClassLifecycle } from '../../src/lib/server/class-lifecycle.ts';
import type { Db } from '../../src/lib/server/db/client.ts';
import { EventBus, type DomainEvents } from '../../src/lib/server/events.ts';
import { Registrations, register } from '../../src/lib/server/registration.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUser, makeUsers } from '../support/fixtures.ts';

/**
 * The class lifecycle on the real database: the only writer of a class's
 * status, announcing every change as one typed event.
 */
let t: TestDatabase;
let db: Db;
beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
});
afterAll(() => t?.close());

/** A lifecycle on its own bus, and every event it publishes, in order. */
function setup() {
	const events = EventBus.local();
	const seen: { name: keyof DomainEvents; event: unknown }[] = [];
	for (const name of ['class.lifecycle', 'access.changed', 'sessions.revoked'] as const) {
		events.on(name, 'origin', (event) => void seen.push({ name, event }));
	}
	const registrations = new Registrations(db, events);
	return { lifecycle: new ClassLifecycle(db, events, registrations), registrations, seen };
}

async function formOf(classId: string) {
	const cls = await db.policyClass.findUniqueOrThrow({ where: { id: classId } });
	return {
		...classDetails({
			...cls,
			location: cls.location,
			capacity: cls.capacity,
			registrationOpensAt: cls.registrationOpensAt,
			registrationClosesAt: cls.registrationClosesAt
		}),
		capacity: cls.capacity
	};
}

describe('go live and end', () => {
	it('only the presenter moves the class, each change announced once', async () => {
		const { lifecycle, seen } = setup();
		const instructor = await makeUser(db, 'INSTRUCTOR');
		const staff = await makeUser(db, 'STAFF');
		const cls = await makeClass(db, { instructorId: instructor.id });

		expect(await lifecycle.goLive(cls.id, staff)).toEqual({ ok: false, reason: 'forbidden' });
		expect(await lifecycle.goLive(cls.id, instructor)).toEqual({
			ok: true,
			status: 'LIVE',
			changed: true
		});
		expect(await lifecycle.goLive(cls.id, instructor)).toMatchObject({ changed: false });
		expect(await lifecycle.end(cls.id, instructor)).toMatchObject({ ok: true, changed: true });
		expect(await lifecycle.end(cls.id, instructor)).toMatchObject({ ok: true, changed: false });
		expect(await lifecycle.goLive(cls.id, instructor)).toEqual({
			ok: false,
			reason: 'forbidden'
		});
		expect(seen.map((s) => (s.event as { type: string }).type)).toEqual(['live', 'ended']);
		const row = await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } });
		expect(row.status).toBe('ENDED');
		expect(row.wentLiveAt).not.toBeNull();
		expect(row.endedAt).not.toBeNull();
	});
});

describe('cancel', () => {
	it('stops a live class as well as a scheduled one, and records who did it', async () => {
		const { lifecycle, seen } = setup();
		const staff = await makeUser(db, 'STAFF', '值班工作人员');
		const taxpayer = await makeUser(db);
		const scheduled = await makeClass(db);
		const live = await makeClass(db, { status: 'LIVE' });

		expect(await lifecycle.cancel(live.id, taxpayer, '无权取消')).toEqual({
			ok: false,
			reason: 'forbidden'
		});
		expect(await lifecycle.cancel(scheduled.id, staff, '讲师临时出差')).toMatchObject({
			ok: true,
			changed: true
		});
		expect(await lifecycle.cancel(live.id, staff, '直播中紧急取消')).toMatchObject({
			ok: true,
			changed: true
		});
		// Again: already there, nothing new.
		expect(await lifecycle.cancel(live.id, staff, '再次取消')).toMatchObject({
			ok: true,
			changed: false
		});
		expect(seen.map((s) => s.event)).toEqual([
			expect.objectContaining({ type: 'cancelled', classId: scheduled.id, wasLive: false }),
			expect.objectContaining({ type: 'cancelled', classId: live.id, wasLive: true })
		]);
		const audit = await db.auditEntry.findMany({
			where: { classId: live.id },
			orderBy: { at: 'asc' }
		});
		expect(audit).toHaveLength(1);
		expect(audit[0]).toMatchObject({
			action: 'class.cancelled',
			actorName: '值班工作人员',
			actorRole: 'STAFF',
			targetId: live.id
		});
	});

	it('does not cancel a class that has ended', async () => {
		const { lifecycle, seen } = setup();
		const admin = await makeUser(db, 'ADMIN');
		const ended = await makeClass(db, { status: 'ENDED' });
		expect(await lifecycle.cancel(ended.id, admin, '已结束')).toEqual({
			ok: false,
			reason: 'bad_state'
		});
		expect(seen).toEqual([]);
	});
});

describe('edit', () => {
	it('announces a new time and a new instructor, and promotes into added seats', async () => {
		const { lifecycle, seen } = setup();
		const admin = await makeUser(db, 'ADMIN');
		const first = await makeUser(db, 'INSTRUCTOR');
		const second = await makeUser(db, 'INSTRUCTOR');
		const cls = await makeClass(db, { instructorId: first.id, capacity: 1 });
		const [seated, waiting] = await makeUsers(db, 2);
		await register(db, cls.id, seated!);
		await register(db, cls.id, waiting!);

		const form = await formOf(cls.id);
		const later = new Date(form.startsAt.getTime() + 24 * 3600_000);
		const { capacity: _capacity, ...details } = form;
		expect(
			await lifecycle.edit(
				cls.id,
				admin,
				{ ...details, startsAt: later, instructorId: second.id },
				2
			)
		).toEqual({ ok: true });
		expect(seen).toEqual([
			{
				name: 'class.lifecycle',
				event: expect.objectContaining({
					type: 'rescheduled',
					startsAt: later.toISOString(),
					previousStartsAt: form.startsAt.toISOString()
				})
			},
			{
				name: 'class.lifecycle',
				event: expect.objectContaining({
					type: 'reassigned',
					instructorId: second.id,
					previousInstructorId: first.id
				})
			},
			{
				name: 'access.changed',
				event: { userId: first.id, classId: cls.id, reason: 'reassigned' }
			},
			{
				name: 'access.changed',
				event: { userId: second.id, classId: cls.id, reason: 'reassigned' }
			},
			{ name: 'access.changed', event: { userId: waiting, classId: cls.id, reason: 'promoted' } }
		]);
		expect(await db.auditEntry.count({ where: { classId: cls.id, action: 'class.edited' } })).toBe(
			1
		);
	});

	it('names only instructor or admin accounts as instructor', async () => {
		const { lifecycle, seen } = setup();
		const admin = await makeUser(db, 'ADMIN');
		const taxpayer = await makeUser(db);
		const cls = await makeClass(db);
		const { capacity, ...details } = await formOf(cls.id);
		for (const instructorId of [taxpayer.id, '00000000-0000-4000-8000-000000000000']) {
			expect(await lifecycle.edit(cls.id, admin, { ...details, instructorId }, capacity)).toEqual({
				ok: false,
				reason: 'instructor_invalid'
			});
			expect(await lifecycle.schedule(admin, { ...details, instructorId }, capacity)).toEqual({
				ok: false,
				reason: 'instructor_invalid'
			});
		}
		expect(seen).toEqual([]);
		const unchanged = await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } });
		expect(unchanged.instructorId).toBe(cls.instructorId);
	});
});

describe('registration access events', () => {
	it('a cancelled seat announces the canceller and the promoted registrant', async () => {
		const { registrations, seen } = setup();
		const cls = await makeClass(db, { capacity: 1 });
		const [a, b] = await makeUsers(db, 2);
		await registrations.register(cls.id, a!);
		await registrations.register(cls.id, b!);
		await registrations.cancel(cls.id, a!);
		expect(seen.map((s) => s.event)).toEqual([
			{ userId: a, classId: cls.id, reason: 'registered' },
			{ userId: b, classId: cls.id, reason: 'registered' },
			{ userId: a, classId: cls.id, reason: 'registration_cancelled' },
			{ userId: b, classId: cls.id, reason: 'promoted' }
		]);
	});
});
