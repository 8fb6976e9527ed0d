import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { EventBus } from '../../src/lib/server/events.ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
	authenticate,
	changePassword,
	createAccount,
	getProfile,
	updateProfile,
	updateUserAccess
} from '../../src/lib/server/accounts.ts';
import { createSession, validateSessionToken } from '../../src/lib/server/auth/session.ts';
import { createDb, type Db } from '../../src/lib/server/db/client.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeUser } from '../support/fixtures.ts';

let t: TestDatabase;
let db: Db;
beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
});
afterAll(() => t?.close());

/** A mobile number nobody else in the (possibly shared) database has. */
function uniqueMobile(): string {
	return `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
}
const uniqueEmail = () => `${randomUUID()}@Example.CN`.toLowerCase();

const profile = {
	displayName: '张会计',
	companyName: '福州闽江商贸有限公司',
	creditCode: '91350100M000100Y43',
	priorityService: false,
	priorityReason: null
};

describe('createAccount', () => {
	it('creates a taxpayer with a hashed password', async () => {
		const phone = uniqueMobile();
		const result = await createAccount(db, {
			...profile,
			contact: { kind: 'phone', value: phone },
			password: 'xuetang2026'
		});
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		const user = await db.user.findUniqueOrThrow({ where: { id: result.userId } });
		expect(user).toMatchObject({ role: 'TAXPAYER', phone, email: null, displayName: '张会计' });
		expect(user.passwordHash).toMatch(/^\$argon2id\$/);
		expect(user.passwordHash).not.toContain('xuetang2026');
	});

	it('refuses a mobile number or email that is already taken', async () => {
		const phone = uniqueMobile();
		const email = uniqueEmail();
		const base = { ...profile, password: 'xuetang2026' };
		expect(
			(await createAccount(db, { ...base, contact: { kind: 'phone', value: phone } })).ok
		).toBe(true);
		expect(
			(await createAccount(db, { ...base, contact: { kind: 'email', value: email } })).ok
		).toBe(true);
		expect(await createAccount(db, { ...base, contact: { kind: 'phone', value: phone } })).toEqual({
			ok: false,
			reason: 'contact_taken'
		});
		expect(await createAccount(db, { ...base, contact: { kind: 'email', value: email } })).toEqual({
			ok: false,
			reason: 'contact_taken'
		});
		// Two sign-ups racing for the same number: one wins, the other is told it is taken.
		const racing = uniqueMobile();
		const both = await Promise.all(
			[1, 2].map(() => createAccount(db, { ...base, contact: { kind: 'phone', value: racing } }))
		);
		expect(both.filter((r) => r.ok)).toHaveLength(1);
		expect(both.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'contact_taken' }]);
	});

	it('keeps a priority reason only with priority service', async () => {
		const result = await createAccount(db, {
			...profile,
			priorityService: false,
			priorityReason: 'ELDERLY',
			contact: { kind: 'email', value: uniqueEmail() },
			password: 'xuetang2026'
		});
		if (!result.ok) throw new Error(result.reason);
		expect((await getProfile(db, result.userId)).priorityReason).toBeNull();
		await updateProfile(db, result.userId, {
			...profile,
			priorityService: true,
			priorityReason: 'DISABLED'
		});
		expect(await getProfile(db, result.userId)).toMatchObject({
			priorityService: true,
			priorityReason: 'DISABLED'
		});
	});
});

describe('authenticate', () => {
	it('signs in by mobile number in any common spelling, or by email in any case', async () => {
		const phone = uniqueMobile();
		const email = uniqueEmail();
		const base = { ...profile, password: 'xuetang2026' };
		const byPhone = await createAccount(db, { ...base, contact: { kind: 'phone', value: phone } });
		const byEmail = await createAccount(db, { ...base, contact: { kind: 'email', value: email } });
		if (!byPhone.ok || !byEmail.ok) throw new Error('setup');

		const spaced = `+86 ${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}`;
		for (const contact of [phone, spaced, `86${phone}`, `${phone.slice(0, 3)}-${phone.slice(3)}`]) {
			expect(await authenticate(db, contact, 'xuetang2026'), contact).toEqual({
				id: byPhone.userId
			});
		}
		for (const contact of [email, ` ${email.toUpperCase()} `]) {
			expect(await authenticate(db, contact, 'xuetang2026'), contact).toEqual({
				id: byEmail.userId
			});
		}
	});

	it('refuses a wrong password, an unknown contact, nonsense and disabled users', async () => {
		const phone = uniqueMobile();
		const created = await createAccount(db, {
			...profile,
			contact: { kind: 'phone', value: phone },
			password: 'xuetang2026'
		});
		if (!created.ok) throw new Error('setup');
		expect(await authenticate(db, phone, 'xuetang2027')).toBeNull();
		expect(await authenticate(db, phone, '')).toBeNull();
		expect(await authenticate(db, uniqueMobile(), 'xuetang2026')).toBeNull();
		expect(await authenticate(db, uniqueEmail(), 'xuetang2026')).toBeNull();
		expect(await authenticate(db, 'not a contact', 'xuetang2026')).toBeNull();

		await db.user.update({ where: { id: created.userId }, data: { disabledAt: new Date() } });
		expect(await authenticate(db, phone, 'xuetang2026')).toBeNull();
	});

	it('changes the password only with the current one', async () => {
		const email = uniqueEmail();
		const created = await createAccount(db, {
			...profile,
			contact: { kind: 'email', value: email },
			password: 'old password'
		});
		if (!created.ok) throw new Error('setup');
		expect(await changePassword(db, created.userId, 'wrong', 'new password')).toBe(false);
		expect(await authenticate(db, email, 'old password')).not.toBeNull();
		expect(await changePassword(db, created.userId, 'old password', 'new password')).toBe(true);
		expect(await authenticate(db, email, 'old password')).toBeNull();
		expect(await authenticate(db, email, 'new password')).toEqual({ id: created.userId });
	});
});

describe('updateUserAccess', () => {
	const events = EventBus.local();
	it('changes roles, and disabling signs the user out everywhere', async () => {
		const actor = await makeUser(db, 'STAFF', '审计人');
		const user = await makeUser(db);
		expect(await updateUserAccess(db, events, actor, user.id, { role: 'INSTRUCTOR' })).toBe('ok');
		expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).role).toBe('INSTRUCTOR');

		const { token } = await createSession(db, user.id, 30);
		expect(await validateSessionToken(db, token, 30)).not.toBeNull();
		expect(await updateUserAccess(db, events, actor, user.id, { disabled: true })).toBe('ok');
		expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).disabledAt).not.toBeNull();
		expect(await db.session.count({ where: { userId: user.id } })).toBe(0);
		expect(await validateSessionToken(db, token, 30)).toBeNull();

		expect(await updateUserAccess(db, events, actor, user.id, { disabled: false })).toBe('ok');
		expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).disabledAt).toBeNull();
		expect(await updateUserAccess(db, events, actor, randomUUID(), { role: 'STAFF' })).toBe(
			'not_found'
		);
	});

	it('refuses to remove or disable the last active admin', async () => {
		// The rule counts admins across the whole database. On server PostgreSQL the
		// database is shared with other test files, which may have admins of their
		// own, so run this against a private database there.
		const own = t.kind === 'postgres' ? await openPrivateServerDatabase() : null;
		const pdb = own?.db ?? db;
		try {
			// Make sure no other active admin exists in this (private) database.
			await pdb.user.updateMany({ where: { role: 'ADMIN' }, data: { role: 'STAFF' } });
			const admin = await makeUser(pdb, 'ADMIN');
			const actor = await makeUser(pdb, 'STAFF');
			expect(await updateUserAccess(pdb, events, actor, admin.id, { role: 'STAFF' })).toBe(
				'last_admin'
			);
			expect(await updateUserAccess(pdb, events, actor, admin.id, { disabled: true })).toBe(
				'last_admin'
			);
			expect(await updateUserAccess(pdb, events, actor, admin.id, { role: 'ADMIN' })).toBe('ok');
			expect((await pdb.user.findUniqueOrThrow({ where: { id: admin.id } })).role).toBe('ADMIN');

			// A disabled second admin does not count.
			const second = await makeUser(pdb, 'ADMIN');
			await pdb.user.update({ where: { id: second.id }, data: { disabledAt: new Date() } });
			expect(await updateUserAccess(pdb, events, actor, admin.id, { role: 'TAXPAYER' })).toBe(
				'last_admin'
			);

			// With another active admin, either may step down, but not both.
			expect(await updateUserAccess(pdb, events, actor, second.id, { disabled: false })).toBe('ok');
			expect(await updateUserAccess(pdb, events, actor, admin.id, { role: 'INSTRUCTOR' })).toBe(
				'ok'
			);
			expect(await updateUserAccess(pdb, events, actor, second.id, { disabled: true })).toBe(
				'last_admin'
			);
			expect(await pdb.user.count({ where: { role: 'ADMIN', disabledAt: null } })).toBe(1);
		} finally {
			await own?.close();
		}
	});
});

/**
 * A fresh database on the test server with the project's migrations applied,
 * dropped on close. The SQL goes straight through pg (a multi-statement simple
 * query), which takes a fraction of a second, where `prisma migrate deploy`
 * takes over ten.
 */
async function openPrivateServerDatabase(): Promise<TestDatabase> {
	const shared = new URL(inject('serverDatabaseUrl')!);
	const name = `tc_accounts_${process.pid}_${Date.now()}`;
	const admin = new pg.Client({ connectionString: shared.toString() });
	await admin.connect();
	await admin.query(`CREATE DATABASE ${name}`);
	const url = new URL(shared);
	url.pathname = `/${name}`;
	const migrator = new pg.Client({ connectionString: url.toString() });
	await migrator.connect();
	const migrations = path.resolve('prisma/migrations');
	for (const dir of fs.readdirSync(migrations).sort()) {
		const file = path.join(migrations, dir, 'migration.sql');
		if (fs.existsSync(file)) await migrator.query(fs.readFileSync(file, 'utf8'));
	}
	await migrator.end();
	const privateDb = await createDb({ DATABASE_URL: url.toString(), PGLITE_DIR: '' });
	return {
		db: privateDb,
		kind: 'postgres',
		close: async () => {
			await privateDb.$disconnect();
			await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
			await admin.end();
		}
	};
}
