import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { QaClient } from '../../src/lib/qa/client.ts';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { copyPgliteTemplate } from '../support/database.ts';
import {
	ACCOUNTS,
	ask,
	findClassId,
	loginCookie,
	MediaSockets,
	postForm,
	qaAs
} from '../support/live.ts';

/**
 * GET /metrics on the production build: only for the METRICS_TOKEN bearer,
 * and its figures follow what the process holds: workers, media rooms and
 * peers, socket.io sockets, Q&A actions and the mail queue.
 */
const TOKEN = 'metrics-token-for-tests-0123456789';
let app: AppServer;
let classId: string;
const sockets = new MediaSockets(() => app.url);
const qa: QaClient[] = [];

beforeAll(async () => {
	app = await startAppServer({
		MEDIA_LISTEN_IP: '127.0.0.1',
		MEDIA_WORKERS: '1',
		PGLITE_DIR: copyPgliteTemplate(true),
		METRICS_TOKEN: TOKEN
	});
	classId = await findClassId(app.url);
});

afterAll(async () => {
	for (const client of qa) client.close();
	sockets.close();
	await app?.stop();
});

/** The scrape's samples, `name{labels}` to value. */
async function scrape(): Promise<Map<string, number>> {
	const response = await fetch(`${app.url}/metrics`, {
		headers: { authorization: `Bearer ${TOKEN}` }
	});
	expect(response.status).toBe(200);
	expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
	const samples = new Map<string, number>();
	for (const line of (await response.text()).split('\n')) {
		const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
		if (match) samples.set(match[1]!, Number(match[2]));
	}
	return samples;
}

test('only the token bearer may scrape', async () => {
	const url = `${app.url}/metrics`;
	expect((await fetch(url)).status).toBe(401);
	const wrong = await fetch(url, { headers: { authorization: `Bearer ${TOKEN.slice(1)}x` } });
	expect(wrong.status).toBe(401);
	expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
});

test('the figures follow the live class, its sockets and its Q&A', async () => {
	const before = await scrape();
	expect(before.get('tc_media_workers')).toBe(1);
	expect(before.get('tc_media_rooms')).toBe(0);
	expect(before.get('tc_socketio_sockets{namespace="/media"}')).toBe(0);
	expect(before.get('tc_process_cpu_seconds_total')).toBeGreaterThan(0);
	const pendingMail = (samples: Map<string, number>) =>
		samples.get('tc_mail_jobs{status="PENDING"}') ?? 0;

	const [teacher, viewer] = await Promise.all([sockets.as('instructor'), sockets.as('taxpayer1')]);
	expect(await ask(teacher, 'live:join', { classId, role: 'publisher' })).toMatchObject({
		ok: true
	});
	expect(await ask(teacher, 'live:go', {})).toEqual({ ok: true, status: 'LIVE' });
	expect(await ask(viewer, 'live:join', { classId, role: 'viewer' })).toMatchObject({ ok: true });
	const asker = await qaAs(app.url, classId, await loginCookie(app.url, ACCOUNTS.taxpayer2));
	qa.push(asker);
	expect(
		await asker.action({ type: 'ask', classId, text: '留抵退税的申请期限是多久？' })
	).toMatchObject({ ok: true });
	expect(await asker.action({ type: 'vote', classId, questionId: randomUUID() })).toMatchObject({
		ok: false
	});

	// A registration queues its emails (the welcome, the reminders).
	const other = await findClassId(app.url, '社保费申报缴纳常见问题');
	const cookie = await loginCookie(app.url, ACCOUNTS.taxpayer1);
	expect((await postForm(app.url, `/classes/${other}?/register`, {}, cookie)).ok).toBe(true);

	const live = await scrape();
	expect(pendingMail(live) - pendingMail(before)).toBeGreaterThan(0);
	expect(live.get('tc_media_rooms')).toBe(1);
	expect(live.get('tc_media_routers')).toBeGreaterThanOrEqual(1);
	expect(live.get('tc_media_peers{role="publisher"}')).toBe(1);
	expect(live.get('tc_media_peers{role="interpreter"}')).toBe(0);
	expect(live.get('tc_media_peers{role="viewer"}')).toBe(1);
	// The class's recorder, once it has started, counts apart from the audience.
	await expect.poll(async () => (await scrape()).get('tc_media_peers{role="recorder"}')).toBe(1);
	expect(live.get('tc_socketio_sockets{namespace="/media"}')).toBe(2);
	expect(live.get('tc_socketio_sockets{namespace="/qa"}')).toBe(1);
	// Three sockets; the client library may carry two namespaces on one connection.
	expect(live.get('tc_socketio_clients')).toBeGreaterThanOrEqual(2);
	expect(live.get('tc_socketio_clients')).toBeLessThanOrEqual(3);
	expect(live.get('tc_qa_actions_total{action="ask",outcome="ok"}')).toBe(1);
	expect(live.get('tc_qa_actions_total{action="vote",outcome="refused"}')).toBe(1);

	// The viewer leaves; the recorder stays.
	viewer.disconnect();
	await expect.poll(async () => (await scrape()).get('tc_media_peers{role="viewer"}')).toBe(0);
	expect((await scrape()).get('tc_media_peers{role="recorder"}')).toBe(1);
});
