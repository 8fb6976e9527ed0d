import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { copyPgliteTemplate, writePglite } from '../support/database.ts';
import { FIXTURE_PASSWORD, makeUser } from '../support/fixtures.ts';
import { ACCOUNTS, loginCookie } from '../support/live.ts';

/**
 * The replay player's batches through the production server: a registrant's
 * seconds are counted, a batch claiming more time than has passed is refused,
 * and visitors who may not watch the recording are not counted.
 */
let app: AppServer;
let dir: string;
let classId: string;
let recordingId: string;
let outsiderEmail: string;

beforeAll(async () => {
	dir = copyPgliteTemplate(true);
	({ classId, recordingId, outsiderEmail } = await writePglite(dir, async (db) => {
		const past = await db.policyClass.findFirstOrThrow({ where: { status: 'ENDED' } });
		const recording = await db.recording.create({
			data: { classId: past.id, status: 'READY', dir: `${past.id}/bench`, durationSeconds: 3600 }
		});
		const outsider = await makeUser(db, 'TAXPAYER', '未报名的访客');
		return { classId: past.id, recordingId: recording.id, outsiderEmail: outsider.email! };
	}));
	app = await startAppServer({ PGLITE_DIR: dir });
});
afterAll(() => app?.stop());

async function signIn(contact: string, password: string): Promise<string> {
	const response = await fetch(`${app.url}/login`, {
		method: 'POST',
		redirect: 'manual',
		headers: { origin: app.url, 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ contact, password })
	});
	return response.headers
		.getSetCookie()
		.map((c) => c.split(';')[0]!)
		.find((c) => !c.endsWith('='))!;
}

const report = (body: unknown, cookie?: string) =>
	fetch(`${app.url}/classes/${classId}/replay/progress`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
		body: typeof body === 'string' ? body : JSON.stringify(body)
	});

it('counts a registrant’s replay seconds, and no one else’s', async () => {
	const registrant = await loginCookie(app.url, ACCOUNTS.taxpayer1);
	const outsider = await signIn(outsiderEmail, FIXTURE_PASSWORD);

	expect((await report({ recordingId, seconds: 15 }, registrant)).status).toBe(204);
	// 60 s of playing claimed moments after the last batch.
	expect((await report({ recordingId, seconds: 60 }, registrant)).status).toBe(409);
	expect((await report({ recordingId, seconds: 15 }, outsider)).status).toBe(403);
	expect((await report({ recordingId, seconds: 15 })).status).toBe(204);
	for (const bad of [{ recordingId, seconds: 0 }, { recordingId, seconds: 61 }, 'not json']) {
		expect((await report(bad, registrant)).status).toBe(400);
	}

	await app.stop();
	const rows = await writePglite(dir, (db) =>
		db.replayWatch.findMany({ where: { classId }, include: { user: true } })
	);
	expect(rows.map((r) => [r.user.phone, r.seconds])).toEqual([[ACCOUNTS.taxpayer1, 15]]);
});
