import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { Db } from '../../src/lib/server/db/client.ts';
import { createDb } from '../../src/lib/server/db/client.ts';
import { freePort, startAppServer, type AppServer } from '../support/app-server.ts';
import { copyPgliteTemplate, writePglite } from '../support/database.ts';
import { FIXTURE_PASSWORD, makeClass, makeUser } from '../support/fixtures.ts';
import { recipients, startSmtp, type TestSmtp } from '../support/smtp.ts';

/**
 * The production server with SMTP_URL pointing at a real SMTP server: a
 * taxpayer registers, the server is stopped before the 1 h reminder falls due
 * and started again, and the reminder arrives exactly once. Runs on PGlite,
 * and on the run's PostgreSQL database when DATABASE_URL is set.
 */
const serverUrl = inject('serverDatabaseUrl');
let smtp: TestSmtp;
let app: AppServer | null = null;
let env: NodeJS.ProcessEnv;
let port: number;

/** The database the server runs on, opened by the test while the server is stopped (PGlite) or alongside it. */
let withDb: <T>(use: (db: Db) => Promise<T>) => Promise<T>;

beforeAll(async () => {
	smtp = await startSmtp();
	port = await freePort();
	if (serverUrl) {
		env = { DATABASE_URL: serverUrl };
		withDb = async (use) => {
			const db = await createDb({ DATABASE_URL: serverUrl, PGLITE_DIR: '' });
			try {
				return await use(db);
			} finally {
				await db.$disconnect();
			}
		};
	} else {
		const dir = copyPgliteTemplate(true);
		env = { PGLITE_DIR: dir };
		withDb = (use) => writePglite(dir, use);
	}
	env.SMTP_URL = smtp.url;
	env.MAIL_FROM = '纳税人学堂 <noreply@xuetang.test>';
});
afterAll(async () => {
	await app?.stop();
	await smtp?.close();
});

async function signIn(baseUrl: string, email: string): Promise<string> {
	const response = await fetch(`${baseUrl}/login`, {
		method: 'POST',
		redirect: 'manual',
		headers: { origin: baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ contact: email, password: FIXTURE_PASSWORD })
	});
	const cookie = response.headers
		.getSetCookie()
		.map((c) => c.split(';')[0]!)
		.find((c) => !c.endsWith('='));
	if (!cookie) throw new Error(`sign-in failed: ${response.status}`);
	return cookie;
}

it('a server restart between scheduling and sending still delivers the reminder once', async () => {
	// The 1 h reminder falls due 40 s from now: after registering and the restart.
	const { user, cls } = await withDb(async (db) => {
		const user = await makeUser(db, 'TAXPAYER', '周会计');
		const cls = await makeClass(db, {
			title: '重启不丢提醒测试课',
			startsAt: new Date(Date.now() + 3600_000 + 40_000)
		});
		return { user, cls };
	});
	app = await startAppServer(env, port);
	const cookie = await signIn(app.url, user.email!);
	const registered = await fetch(`${app.url}/classes/${cls.id}?/register`, {
		method: 'POST',
		headers: {
			cookie,
			origin: app.url,
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'application/json',
			'x-sveltekit-action': 'true'
		},
		body: ''
	});
	expect(((await registered.json()) as { type: string }).type).toBe('success');
	const mine = (m: Parameters<Parameters<TestSmtp['waitFor']>[0]>[0]) =>
		recipients(m).includes(user.email!);
	expect((await smtp.waitFor(mine)).subject).toBe('报名成功：重启不丢提醒测试课');

	await app.stop();
	app = null;
	const pending = await withDb((db) =>
		db.mailJob.findFirstOrThrow({ where: { classId: cls.id, kind: 'REMINDER_1H' } })
	);
	expect(pending).toMatchObject({ status: 'PENDING', attempts: 0 });

	app = await startAppServer(env, port);
	const reminder = await smtp.waitFor(
		(m) => mine(m) && m.subject === '1 小时后开课：重启不丢提醒测试课',
		90_000
	);
	expect(reminder.from?.text).toContain('noreply@xuetang.test');
	await app.stop();
	app = null;

	const jobs = await withDb((db) =>
		db.mailJob.findMany({ where: { classId: cls.id }, orderBy: { kind: 'asc' } })
	);
	expect(jobs.map((j) => [j.kind, j.status, j.attempts])).toEqual([
		['REGISTERED', 'SENT', 1],
		['REMINDER_1H', 'SENT', 1]
	]);
	expect(smtp.messages.filter(mine).map((m) => m.subject)).toEqual([
		'报名成功：重启不丢提醒测试课',
		'1 小时后开课：重启不丢提醒测试课'
	]);
}, 240_000);
