import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextClassFor } from '../../src/lib/server/next-class.ts';
import { register } from '../../src/lib/server/registration.ts';
import type { Db } from '../../src/lib/server/db/client.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUser } from '../support/fixtures.ts';

/** The class the 关怀模式 home offers, on the real database. */
let t: TestDatabase;
let db: Db;
beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
});
afterAll(() => t?.close());

const HOUR = 3600_000;
const inHours = (hours: number) => new Date(Date.now() + hours * HOUR);

describe('nextClassFor', () => {
	it('is null without a registration still to come', async () => {
		const user = await makeUser(db);
		expect(await nextClassFor(db, user.id)).toBeNull();
		const over = await makeClass(db, { startsAt: inHours(-3), registrationClosesAt: inHours(-4) });
		await db.registration.create({
			data: { classId: over.id, userId: user.id, status: 'CONFIRMED', confirmedAt: new Date() }
		});
		expect(await nextClassFor(db, user.id)).toBeNull();
	});

	it('offers the soonest class, a live one first, a seat before a waitlist place', async () => {
		const user = await makeUser(db);
		const other = await makeUser(db);
		const later = await makeClass(db, { startsAt: inHours(48) });
		const sooner = await makeClass(db, { startsAt: inHours(24), capacity: 1 });
		await register(db, later.id, user.id);
		await register(db, sooner.id, other.id);
		await register(db, sooner.id, user.id);
		// The sooner class is full: a confirmed seat later wins over a waitlist place.
		expect(await nextClassFor(db, user.id)).toMatchObject({
			id: later.id,
			registration: 'CONFIRMED'
		});
		await db.registration.updateMany({
			where: { classId: later.id, userId: user.id },
			data: { status: 'CANCELLED', cancelledAt: new Date() }
		});
		expect(await nextClassFor(db, user.id)).toMatchObject({
			id: sooner.id,
			registration: 'WAITLISTED',
			position: 1
		});

		const live = await makeClass(db, { startsAt: inHours(72), status: 'LIVE' });
		await db.registration.create({
			data: { classId: live.id, userId: user.id, status: 'CONFIRMED', confirmedAt: new Date() }
		});
		expect(await nextClassFor(db, user.id)).toMatchObject({ id: live.id, status: 'LIVE' });
	});

	it('skips cancelled classes', async () => {
		const user = await makeUser(db);
		const cancelled = await makeClass(db, { startsAt: inHours(5), status: 'CANCELLED' });
		await db.registration.create({
			data: { classId: cancelled.id, userId: user.id, status: 'CONFIRMED', confirmedAt: new Date() }
		});
		expect(await nextClassFor(db, user.id)).toBeNull();
	});
});
