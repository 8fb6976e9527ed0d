import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { QaClient } from '../../src/lib/qa/client.ts';
import { SessionCache } from '../../src/lib/server/auth/session-cache.ts';
import { invalidateSession } from '../../src/lib/server/auth/session.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass } from '../support/fixtures.ts';
import { connect, makeMember, startQaServer, waitFor } from './qa-support.ts';

/**
 * Scale-out: two socket.io servers (as two app processes would run), each with
 * its own database pool and Redis adapter connections. Runs in the pass that
 * has REDIS_URL (and server PostgreSQL).
 */
describe.runIf(process.env.REDIS_URL)('live Q&A across two servers with Redis', () => {
	const opened: TestDatabase[] = [];
	const servers: Awaited<ReturnType<typeof startQaServer>>[] = [];
	const clients: QaClient[] = [];

	afterAll(async () => {
		for (const c of clients) c.close();
		for (const s of servers) await s.close();
		for (const d of opened) await d.close();
	});

	it('a question asked on one server reaches a client of the other, and resync works there', async () => {
		const first = await openTestDatabase();
		opened.push(first);
		// PGlite cannot be shared by two pools; server PostgreSQL gets a second pool.
		const second = first.kind === 'postgres' ? await openTestDatabase() : first;
		if (second !== first) opened.push(second);
		const key = `qa-test-${randomUUID()}`;
		const one = await startQaServer(first.db, { redisUrl: process.env.REDIS_URL, redisKey: key });
		const two = await startQaServer(second.db, { redisUrl: process.env.REDIS_URL, redisKey: key });
		servers.push(one, two);

		const cls = await makeClass(first.db);
		const a = await makeMember(first.db, { classId: cls.id, name: '一号机用户' });
		const b = await makeMember(first.db, { classId: cls.id, name: '二号机用户' });
		const staff = await makeMember(first.db, { role: 'STAFF' });
		const A = connect(one.url, cls.id, a.cookie);
		const B = connect(two.url, cls.id, b.cookie);
		const S = connect(two.url, cls.id, staff.cookie);
		clients.push(A, B, S);
		await Promise.all([A.ready(), B.ready(), S.ready()]);

		const asked = await A.ask('跨进程的问题');
		expect(asked.ok).toBe(true);
		const q = await waitFor(B, (qs) => qs.find((x) => x.text === '跨进程的问题'));
		await waitFor(S, (qs) => qs.find((x) => x.id === q.id && x.staff?.realName === '一号机用户'));

		expect((await B.vote(q.id)).ok).toBe(true);
		await waitFor(A, (qs) => qs.find((x) => x.id === q.id && x.voteCount === 1));
		await S.action({ type: 'answer', classId: cls.id, questionId: q.id, text: '跨进程的回答' });
		await waitFor(A, (qs) => qs.find((x) => x.id === q.id && x.answerText === '跨进程的回答'));

		// B drops; questions asked on the other server are resynced on reconnect.
		B.socket.disconnect();
		const c = await makeMember(first.db, { classId: cls.id });
		const C = connect(one.url, cls.id, c.cookie);
		clients.push(C);
		await C.ready();
		for (const text of ['断线一', '断线二', '断线三']) expect((await C.ask(text)).ok).toBe(true);
		B.socket.connect();
		await waitFor(B, (qs) => qs.length === 4);
		expect(
			[...B.state.questions.values()]
				.sort((x, y) => x.createdAt.localeCompare(y.createdAt))
				.map((x) => x.text)
		).toEqual(['跨进程的问题', '断线一', '断线二', '断线三']);
	});

	it("counts a user's questions on every server against one limit", async () => {
		const db = opened[0]!.db;
		const key = `qa-test-${randomUUID()}`;
		const throttles = { qaQuestion: { points: 2, durationSeconds: 60 } };
		const redisUrl = process.env.REDIS_URL;
		const one = await startQaServer(db, { redisUrl, redisKey: key, throttles });
		const two = await startQaServer(db, { redisUrl, redisKey: key, throttles });
		servers.push(one, two);
		const cls = await makeClass(db);
		const user = await makeMember(db, { classId: cls.id });
		const other = await makeMember(db, { classId: cls.id });
		const [A1, A2, B] = [
			connect(one.url, cls.id, user.cookie),
			connect(two.url, cls.id, user.cookie),
			connect(two.url, cls.id, other.cookie)
		];
		clients.push(A1, A2, B);
		await Promise.all([A1.ready(), A2.ready(), B.ready()]);

		expect((await A1.ask('第一问')).ok).toBe(true);
		expect((await A2.ask('第二问')).ok).toBe(true);
		expect(await A1.ask('第三问')).toMatchObject({ ok: false, error: 'qa_error_rate_questions' });
		expect(await A2.ask('第三问')).toMatchObject({ ok: false, error: 'qa_error_rate_questions' });
		// Another user's allowance is untouched.
		expect((await B.ask('别人的问题')).ok).toBe(true);

		// An access change made through one server reaches the user's connection on the other.
		// (makeMember seats without the counter: end the registration directly and
		// announce it, as the registration rules do.)
		const refused = waitFor(A2, () => A2.state.joinError ?? undefined);
		await db.registration.updateMany({
			where: { classId: cls.id, userId: user.user.id },
			data: { status: 'CANCELLED', cancelledAt: new Date() }
		});
		await one.events.publish('access.changed', {
			userId: user.user.id,
			classId: cls.id,
			reason: 'registration_cancelled'
		});
		expect(await refused).toBe('qa_error_not_participant');
		expect(B.state.joined).toBe(true);
	});

	it('a sign-out on one server drops the session from the other server’s cache', async () => {
		const db = opened[0]!.db;
		const key = `qa-test-${randomUUID()}`;
		const redisUrl = process.env.REDIS_URL;
		const one = await startQaServer(db, { redisUrl, redisKey: key });
		const two = await startQaServer(db, { redisUrl, redisKey: key });
		servers.push(one, two);
		const [cacheOne, cacheTwo] = [
			new SessionCache(db, one.events, 30),
			new SessionCache(db, two.events, 30)
		];
		const user = await makeMember(db);
		const token = user.cookie.split('=')[1]!;
		expect(await cacheTwo.validate(token)).not.toBeNull();
		const session = (await cacheOne.validate(token))!;
		const dropped = new Promise((resolve) =>
			two.events.on('sessions.revoked', 'every-process', resolve)
		);
		await invalidateSession(db, session.id);
		await one.events.publish('sessions.revoked', {
			userId: user.user.id,
			sessionIds: [session.id],
			reason: 'logout'
		});
		await dropped;
		expect(await cacheTwo.validate(token)).toBeNull();
	});
});
