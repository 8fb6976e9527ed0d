import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attendance } from '../../src/lib/server/attendance.ts';
import type { Db } from '../../src/lib/server/db/client.ts';
import { EventBus, type LivePresence } from '../../src/lib/server/events.ts';
import { classAudience } from '../../src/lib/server/reports/figures.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUser } from '../support/fixtures.ts';

/**
 * Attendance from the typed events on the real database: connections become
 * rows, a reconnect is merged into one person's intervals, rows a crash left
 * open are closed where last seen, and replay seconds cannot outrun the clock.
 */
let t: TestDatabase;
let db: Db;
beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
});
afterAll(() => t?.close());

describe('attendance', () => {
	it('records connections from live.presence and merges a reconnect into one person', async () => {
		const events = EventBus.local();
		const attendance = new Attendance(db, events);
		await attendance.start();
		const user = await makeUser(db);
		const start = new Date(Date.now() - 3600_000);
		const cls = await makeClass(db, { status: 'LIVE' });
		await db.policyClass.update({ where: { id: cls.id }, data: { wentLiveAt: start } });
		const at = (s: number) => new Date(start.getTime() + s * 1000).toISOString();
		const presence = (type: LivePresence['type'], connectionId: string, s: number) =>
			events.publish('live.presence', {
				type,
				classId: cls.id,
				userId: user.id,
				connectionId,
				at: at(s)
			});
		// Watches 20 s, drops, comes back for 10 s; a second tab overlaps the first.
		await Promise.all([
			presence('joined', 'a', 0),
			presence('left', 'a', 20),
			presence('joined', 'tab', 5),
			presence('left', 'tab', 15),
			presence('joined', 'b', 22),
			presence('left', 'b', 32)
		]);
		await attendance.settled();
		expect(await db.liveAttendance.count({ where: { classId: cls.id } })).toBe(3);
		expect(await db.liveAttendance.count({ where: { classId: cls.id, leftAt: null } })).toBe(0);
		expect(await classAudience(db, cls.id)).toEqual([
			{ userId: user.id, liveSeconds: 30, replaySeconds: 0 }
		]);
		await attendance.stop();
	});

	it('closes a crashed process’s rows where they were last seen, and a class’s rows when it ends', async () => {
		const events = EventBus.local();
		const user = await makeUser(db);
		const cls = await makeClass(db, { status: 'LIVE' });
		const seen = new Date(Date.now() - 10 * 60_000);
		await db.liveAttendance.create({
			data: {
				classId: cls.id,
				userId: user.id,
				connectionId: randomUUID(),
				joinedAt: new Date(seen.getTime() - 60_000),
				seenAt: seen
			}
		});
		const attendance = new Attendance(db, events, { heartbeatMs: 60_000 });
		await attendance.start();
		const crashed = await db.liveAttendance.findFirstOrThrow({ where: { classId: cls.id } });
		expect(crashed.leftAt).toEqual(seen);

		const endedAt = new Date();
		await events.publish('live.presence', {
			type: 'joined',
			classId: cls.id,
			userId: user.id,
			connectionId: 'still-open',
			at: new Date(endedAt.getTime() - 5000).toISOString()
		});
		await attendance.settled();
		await events.publish('class.lifecycle', {
			type: 'ended',
			classId: cls.id,
			actorId: user.id,
			wentLiveAt: null,
			endedAt: endedAt.toISOString()
		});
		const open = await db.liveAttendance.findFirstOrThrow({
			where: { connectionId: 'still-open' }
		});
		expect(open.leftAt).toEqual(endedAt);
		await attendance.stop();
	});

	it('adds replay seconds no faster than time passes', async () => {
		let now = new Date('2026-01-01T00:00:00Z');
		const attendance = new Attendance(db, EventBus.local(), { now: () => now });
		const user = await makeUser(db);
		const cls = await makeClass(db);
		expect(await attendance.recordReplay(cls.id, user.id, 15)).toEqual({ ok: true, total: 15 });
		now = new Date(now.getTime() + 15_000);
		expect(await attendance.recordReplay(cls.id, user.id, 15)).toEqual({ ok: true, total: 30 });
		// 60 s claimed 1 s later: refused, and the total stays.
		now = new Date(now.getTime() + 1000);
		expect(await attendance.recordReplay(cls.id, user.id, 60)).toEqual({
			ok: false,
			reason: 'too_much'
		});
		const row = await db.replayWatch.findUniqueOrThrow({
			where: { classId_userId: { classId: cls.id, userId: user.id } }
		});
		expect(row.seconds).toBe(30);
	});
});
