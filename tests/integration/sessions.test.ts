import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	createSession,
	generateSessionToken,
	invalidateAllSessions,
	invalidateSession,
	sessionIdFromToken,
	validateSessionToken
} from '../../src/lib/server/auth/session.ts';
import { SessionCache } from '../../src/lib/server/auth/session-cache.ts';
import type { Db } from '../../src/lib/server/db/client.ts';
import { EventBus } from '../../src/lib/server/events.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeUser } from '../support/fixtures.ts';

let t: TestDatabase;
let db: Db;
beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
});
afterAll(() => t?.close());

const DAY = 24 * 3600_000;
const DAYS = 30;

describe('session tokens', () => {
	it('are random, and only their SHA-256 is stored', async () => {
		const tokens = new Set(Array.from({ length: 100 }, generateSessionToken));
		expect(tokens.size).toBe(100);
		for (const token of tokens) expect(token).toMatch(/^[a-z2-7]{32}$/);
		// SHA-256("abc"), a published test vector.
		expect(sessionIdFromToken('abc')).toBe(
			'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
		);

		const user = await makeUser(db);
		const { token } = await createSession(db, user.id, DAYS);
		const rows = await db.session.findMany({ where: { userId: user.id } });
		expect(rows.map((r) => r.id)).toEqual([sessionIdFromToken(token)]);
		expect(rows[0]!.id).not.toContain(token);
	});
});

describe('validateSessionToken', () => {
	it('returns the session and its user', async () => {
		const user = await makeUser(db, 'STAFF', '李敏');
		const before = Date.now();
		const { token, expiresAt } = await createSession(db, user.id, DAYS);
		expect(expiresAt.getTime()).toBeGreaterThanOrEqual(before + DAYS * DAY);
		const session = await validateSessionToken(db, token, DAYS);
		expect(session).toEqual({
			id: sessionIdFromToken(token),
			expiresAt,
			user: {
				id: user.id,
				role: 'STAFF',
				displayName: '李敏',
				email: user.email,
				phone: null,
				priorityService: false,
				careMode: null
			}
		});
		expect(await validateSessionToken(db, generateSessionToken(), DAYS)).toBeNull();
		expect(await validateSessionToken(db, '', DAYS)).toBeNull();
	});

	it('deletes an expired session', async () => {
		const user = await makeUser(db);
		const { token } = await createSession(db, user.id, DAYS);
		const id = sessionIdFromToken(token);
		await db.session.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
		expect(await validateSessionToken(db, token, DAYS)).toBeNull();
		expect(await db.session.findUnique({ where: { id } })).toBeNull();
	});

	it('slides the expiry forward once less than half the lifetime is left', async () => {
		const user = await makeUser(db);
		const { token } = await createSession(db, user.id, DAYS);
		const id = sessionIdFromToken(token);

		// More than half left: no change, no write.
		const later = new Date(Date.now() + 20 * DAY);
		await db.session.update({ where: { id }, data: { expiresAt: later } });
		expect((await validateSessionToken(db, token, DAYS))?.expiresAt).toEqual(later);
		expect((await db.session.findUniqueOrThrow({ where: { id } })).expiresAt).toEqual(later);

		// Less than half left: extended to a full lifetime from now, in the database too.
		await db.session.update({
			where: { id },
			data: { expiresAt: new Date(Date.now() + 10 * DAY) }
		});
		const before = Date.now();
		const renewed = await validateSessionToken(db, token, DAYS);
		const after = Date.now();
		expect(renewed).not.toBeNull();
		expect(renewed!.expiresAt.getTime()).toBeGreaterThanOrEqual(before + DAYS * DAY);
		expect(renewed!.expiresAt.getTime()).toBeLessThanOrEqual(after + DAYS * DAY);
		expect((await db.session.findUniqueOrThrow({ where: { id } })).expiresAt).toEqual(
			renewed!.expiresAt
		);
	});

	it('refuses and deletes the session of a disabled user', async () => {
		const user = await makeUser(db);
		const { token } = await createSession(db, user.id, DAYS);
		await db.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
		expect(await validateSessionToken(db, token, DAYS)).toBeNull();
		expect(await db.session.count({ where: { userId: user.id } })).toBe(0);
	});
});

describe('signing out', () => {
	it('invalidateSession ends one session', async () => {
		const user = await makeUser(db);
		const a = await createSession(db, user.id, DAYS);
		const b = await createSession(db, user.id, DAYS);
		await invalidateSession(db, sessionIdFromToken(a.token));
		expect(await validateSessionToken(db, a.token, DAYS)).toBeNull();
		expect(await validateSessionToken(db, b.token, DAYS)).not.toBeNull();
		// Twice is harmless.
		await invalidateSession(db, sessionIdFromToken(a.token));
	});

	it('invalidateAllSessions signs the user out everywhere, and nobody else', async () => {
		const user = await makeUser(db);
		const other = await makeUser(db);
		const mine = await Promise.all([1, 2, 3].map(() => createSession(db, user.id, DAYS)));
		const theirs = await createSession(db, other.id, DAYS);
		await invalidateAllSessions(db, user.id);
		for (const s of mine) expect(await validateSessionToken(db, s.token, DAYS)).toBeNull();
		expect(await db.session.count({ where: { userId: user.id } })).toBe(0);
		expect((await validateSessionToken(db, theirs.token, DAYS))?.user.id).toBe(other.id);
	});

	it('sessions go when their user is deleted', async () => {
		const user = await makeUser(db);
		const { token } = await createSession(db, user.id, DAYS);
		await db.user.delete({ where: { id: user.id } });
		expect(await validateSessionToken(db, token, DAYS)).toBeNull();
	});
});

describe('the session cache', () => {
	it('answers repeat lookups from memory, and refuses a cached session once it is signed out', async () => {
		const events = EventBus.local();
		const cache = new SessionCache(db, events, DAYS);
		const user = await makeUser(db);
		const [a, b] = await Promise.all([
			createSession(db, user.id, DAYS),
			createSession(db, user.id, DAYS)
		]);
		expect((await cache.validate(a.token))?.user.id).toBe(user.id);
		expect((await cache.validate(b.token))?.user.id).toBe(user.id);

		// Sign-out, as the logout action does: delete, then announce.
		await invalidateSession(db, a.id);
		await events.publish('sessions.revoked', {
			userId: user.id,
			sessionIds: [a.id],
			reason: 'logout'
		});
		expect(await cache.validate(a.token)).toBeNull();
		expect((await cache.validate(b.token))?.user.id).toBe(user.id);

		// Disabling changes the user every session carries: none is served from memory.
		await db.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
		await events.publish('access.changed', { userId: user.id, classId: null, reason: 'disabled' });
		expect(await cache.validate(b.token)).toBeNull();
	});

	it('lookups arriving together are answered each as on its own', async () => {
		const events = EventBus.local();
		const cache = new SessionCache(db, events, DAYS);
		const [one, two, gone] = await Promise.all([makeUser(db), makeUser(db), makeUser(db)]);
		const [a, b, c] = await Promise.all([
			createSession(db, one.id, DAYS),
			createSession(db, two.id, DAYS),
			createSession(db, gone.id, DAYS)
		]);
		await db.session.update({
			where: { id: c.id },
			data: { expiresAt: new Date(Date.now() - 1000) }
		});
		const answers = await Promise.all(
			[a.token, b.token, a.token, c.token, generateSessionToken()].map((t) => cache.validate(t))
		);
		expect(answers.map((s) => s?.user.id ?? null)).toEqual([one.id, two.id, one.id, null, null]);
		expect(await db.session.findUnique({ where: { id: c.id } })).toBeNull();
	});

	it('a role change is seen on the next lookup', async () => {
		const events = EventBus.local();
		const cache = new SessionCache(db, events, DAYS);
		const user = await makeUser(db);
		const { token } = await createSession(db, user.id, DAYS);
		expect((await cache.validate(token))?.user.role).toBe('TAXPAYER');
		await db.user.update({ where: { id: user.id }, data: { role: 'STAFF' } });
		await events.publish('access.changed', {
			userId: user.id,
			classId: null,
			reason: 'role_changed'
		});
		expect((await cache.validate(token))?.user.role).toBe('STAFF');
	});

	it('a profile or 关怀模式 change is seen on the next lookup', async () => {
		const events = EventBus.local();
		const cache = new SessionCache(db, events, DAYS);
		const user = await makeUser(db);
		const { token } = await createSession(db, user.id, DAYS);
		expect((await cache.validate(token))?.user).toMatchObject({
			careMode: null,
			priorityService: false
		});
		await db.user.update({ where: { id: user.id }, data: { careMode: true } });
		await events.publish('user.changed', { userId: user.id, reason: 'care_mode' });
		expect((await cache.validate(token))?.user.careMode).toBe(true);
		await db.user.update({ where: { id: user.id }, data: { priorityService: true } });
		await events.publish('user.changed', { userId: user.id, reason: 'profile' });
		expect((await cache.validate(token))?.user.priorityService).toBe(true);
	});
});
