import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient } from 'socket.io-client';
import type { QaClient } from '../../src/lib/qa/client.ts';
import { invalidateAllSessions } from '../../src/lib/server/auth/session.ts';
import { questionsCsv } from '../../src/lib/server/qa/export.ts';
import { listForReplay } from '../../src/lib/server/qa/replay.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass } from '../support/fixtures.ts';
import { connect, makeMember, startQaServer, waitFor } from './qa-support.ts';

let tdb: TestDatabase;
let server: Awaited<ReturnType<typeof startQaServer>>;
const clients: QaClient[] = [];

function open(classId: string, cookie: string | null) {
	const c = connect(server.url, classId, cookie);
	clients.push(c);
	return c;
}

async function classWithMembers() {
	const { db } = tdb;
	const cls = await makeClass(db);
	const a = await makeMember(db, { classId: cls.id, name: '纳税人甲' });
	const b = await makeMember(db, { classId: cls.id, name: '纳税人乙' });
	const staff = await makeMember(db, { role: 'STAFF', name: '坐席一' });
	return { cls, a, b, staff };
}

beforeAll(async () => {
	tdb = await openTestDatabase();
	server = await startQaServer(tdb.db);
});

afterAll(async () => {
	for (const c of clients) c.close();
	await server?.close();
	await tdb?.close();
});

describe('live Q&A over socket.io', () => {
	it('ask, upvote, answer, pin: every client sees every change', async () => {
		const { cls, a, b, staff } = await classWithMembers();
		const A = open(cls.id, a.cookie);
		const B = open(cls.id, b.cookie);
		const S = open(cls.id, staff.cookie);
		await Promise.all([A.ready(), B.ready(), S.ready()]);
		expect(S.state.role).toBe('moderator');
		expect(B.state.role).toBe('participant');

		const asked = await A.ask('  研发费用加计扣除的比例是多少？  ');
		expect(asked.ok).toBe(true);
		const seen = await waitFor(B, (qs) =>
			qs.find((q) => q.text === '研发费用加计扣除的比例是多少？')
		);
		expect(seen.authorName).toBe('纳税人甲');
		expect(seen.staff).toBeUndefined();

		expect((await B.vote(seen.id)).ok).toBe(true);
		await waitFor(A, (qs) => qs.find((q) => q.id === seen.id && q.voteCount === 1));
		// Once per person, and never one's own.
		expect(await B.vote(seen.id)).toMatchObject({ ok: false, error: 'qa_error_already_voted' });
		expect(await A.vote(seen.id)).toMatchObject({ ok: false, error: 'qa_error_own_question' });

		const answered = await S.action({
			type: 'answer',
			classId: cls.id,
			questionId: seen.id,
			text: '按 100% 加计扣除。'
		});
		expect(answered.ok).toBe(true);
		for (const c of [A, B]) {
			const q = await waitFor(c, (qs) => qs.find((q) => q.id === seen.id && q.answerText));
			expect(q.answerText).toBe('按 100% 加计扣除。');
			expect(q.answeredByName).toBe('坐席一');
		}

		expect((await S.action({ type: 'pin', classId: cls.id, questionId: seen.id })).ok).toBe(true);
		await Promise.all([A, B].map((c) => waitFor(c, (qs) => qs.find((q) => q.pinned))));

		// Pinning another question unpins the first for everyone.
		const second = await B.ask('第二个问题', true);
		expect(second.ok).toBe(true);
		const secondId = second.ok ? second.question!.id : '';
		await waitFor(A, (qs) => qs.find((q) => q.id === secondId && q.authorName === null));
		await S.action({ type: 'pin', classId: cls.id, questionId: secondId });
		await waitFor(A, (qs) => {
			const pinned = qs.filter((q) => q.pinned).map((q) => q.id);
			return pinned.length === 1 && pinned[0] === secondId;
		});
		// Anonymous to other taxpayers, but staff see who asked.
		const staffCopy = await waitFor(S, (qs) => qs.find((q) => q.id === secondId));
		expect(staffCopy.authorName).toBeNull();
		expect(staffCopy.staff?.realName).toBe('纳税人乙');
		expect(B.state.myQuestions.has(secondId)).toBe(true);
	});

	it('questions asked at the same moment are each stored once, with consecutive versions, and answered to their asker', async () => {
		const { db } = tdb;
		const cls = await makeClass(db);
		const askers = await Promise.all(
			Array.from({ length: 12 }, (_, i) =>
				makeMember(db, { classId: cls.id, name: `同时提问${i}` })
			)
		);
		const watcher = await makeMember(db, { classId: cls.id });
		const W = open(cls.id, watcher.cookie);
		const clientsOf = askers.map((m) => open(cls.id, m.cookie));
		await Promise.all([W.ready(), ...clientsOf.map((c) => c.ready())]);
		const replies = await Promise.all(clientsOf.map((c, i) => c.ask(`第 ${i} 个问题`)));
		replies.forEach((reply, i) => {
			expect(reply.ok).toBe(true);
			expect(reply.ok && reply.question?.text).toBe(`第 ${i} 个问题`);
		});
		const seen = await waitFor(W, (qs) => (qs.length === askers.length ? qs : undefined));
		const versions = seen.map((q) => q.version).sort((x, y) => x - y);
		expect(new Set(versions).size).toBe(askers.length);
		expect(versions.at(-1)! - versions[0]!).toBe(askers.length - 1);
		const stored = await db.question.findMany({
			where: { classId: cls.id },
			orderBy: { version: 'asc' },
			select: { text: true }
		});
		expect(stored.map((q) => q.text).sort()).toEqual(askers.map((_, i) => `第 ${i} 个问题`).sort());
	});

	it('pre-moderation: a question stays invisible to others until staff approve it', async () => {
		const { cls, a, b, staff } = await classWithMembers();
		const A = open(cls.id, a.cookie);
		const B = open(cls.id, b.cookie);
		const S = open(cls.id, staff.cookie);
		await Promise.all([A.ready(), B.ready(), S.ready()]);
		expect((await S.action({ type: 'settings', classId: cls.id, preModeration: true })).ok).toBe(
			true
		);
		await waitFor(B, () => B.state.preModeration);

		const asked = await A.ask('需要审核的问题');
		expect(asked.ok).toBe(true);
		const id = asked.ok ? asked.question!.id : '';
		expect(asked.ok && asked.question!.status).toBe('PENDING');
		await waitFor(S, (qs) => qs.find((q) => q.id === id && q.status === 'PENDING'));
		await waitFor(A, (qs) => qs.find((q) => q.id === id));
		// B gets nothing (barrier: B's own later question reaches B after A's
		// would have); a fresh join does not reveal it either.
		const barrier = await B.ask('审核期间B自己的问题');
		await waitFor(B, (qs) => qs.find((q) => barrier.ok && q.id === barrier.question!.id));
		expect(B.state.questions.has(id)).toBe(false);
		const late = open(cls.id, b.cookie);
		await late.ready();
		expect(late.state.questions.has(id)).toBe(false);
		expect(await B.vote(id)).toMatchObject({ ok: false, error: 'qa_error_not_found' });

		expect((await S.action({ type: 'approve', classId: cls.id, questionId: id })).ok).toBe(true);
		await waitFor(B, (qs) => qs.find((q) => q.id === id && q.status === 'VISIBLE'));
		await waitFor(late, (qs) => qs.find((q) => q.id === id));

		// Hiding removes it for taxpayers; staff keep it, marked hidden.
		await S.action({ type: 'hide', classId: cls.id, questionId: id });
		await waitFor(B, (qs) => !qs.some((q) => q.id === id));
		await waitFor(A, (qs) => !qs.some((q) => q.id === id));
		const hidden = await waitFor(S, (qs) => qs.find((q) => q.id === id && q.status === 'HIDDEN'));
		expect(hidden.text).toBe('需要审核的问题');
	});

	it('a reconnecting client gets exactly what it missed, in order, without duplicates', async () => {
		const { cls, a, b } = await classWithMembers();
		const A = open(cls.id, a.cookie);
		const B = open(cls.id, b.cookie);
		await Promise.all([A.ready(), B.ready()]);
		const seenByB: string[] = [];
		B.subscribe((_, fresh) => seenByB.push(...fresh.map((q) => q.text)));
		await B.ask('断线前的问题');
		await waitFor(A, (qs) => qs.length === 1);

		B.socket.disconnect();
		for (const text of ['问题一', '问题二', '问题三']) expect((await A.ask(text)).ok).toBe(true);
		const joins: unknown[] = [];
		B.socket.on('connect', () => joins.push(B.state.lastSeq));
		B.socket.connect();
		await waitFor(B, (qs) => qs.length === 4);
		expect(joins).toHaveLength(1);
		expect(joins[0]).toBeGreaterThan(0);
		expect(seenByB).toEqual(['断线前的问题', '问题一', '问题二', '问题三']);
		const ordered = [...B.state.questions.values()]
			.sort((x, y) => x.createdAt.localeCompare(y.createdAt))
			.map((q) => q.text);
		expect(ordered).toEqual(['断线前的问题', '问题一', '问题二', '问题三']);
		expect(B.state.lastSeq).toBe(A.state.lastSeq);
	});

	it('a cancelled registration or an ended session cuts an open connection', async () => {
		const { cls, a, b } = await classWithMembers();
		const A = open(cls.id, a.cookie);
		const B = open(cls.id, b.cookie);
		await Promise.all([A.ready(), B.ready()]);
		expect((await A.ask('取消前的问题')).ok).toBe(true);
		const changes = (client: QaClient) => {
			const seen: (string | null)[] = [];
			client.subscribe((s) => seen.push(s.joinError));
			return seen;
		};
		const bErrors = changes(B);

		// A's registration ends (makeMember seats without the counter, so set it
		// directly, and announce it as the registration rules do): A's connection
		// is told, asks again and is refused.
		await tdb.db.registration.updateMany({
			where: { classId: cls.id, userId: a.user.id },
			data: { status: 'CANCELLED', cancelledAt: new Date() }
		});
		await server.events.publish('access.changed', {
			userId: a.user.id,
			classId: cls.id,
			reason: 'registration_cancelled'
		});
		await waitFor(A, () => A.state.joinError === 'qa_error_not_participant' || undefined);
		expect(await A.ask('取消后的问题')).toMatchObject({
			ok: false,
			error: 'qa_error_not_participant'
		});
		// B was not touched.
		expect(B.state.joined).toBe(true);
		expect(bErrors.every((e) => e === null)).toBe(true);

		// B is signed out everywhere (password change, account disabled).
		await invalidateAllSessions(tdb.db, b.user.id);
		await server.events.publish('sessions.revoked', {
			userId: b.user.id,
			sessionIds: null,
			reason: 'password_changed'
		});
		await waitFor(B, () => B.state.joinError === 'qa_error_unauthorized' || undefined);
		expect(B.state.connected).toBe(false);
		expect(await tdb.db.question.count({ where: { classId: cls.id } })).toBe(1);
	});

	it('only participants join; taxpayers cannot moderate; the waitlisted only read', async () => {
		const { cls, a, staff } = await classWithMembers();
		const stranger = await makeMember(tdb.db, { name: '未报名' });
		const waiting = await makeMember(tdb.db, { classId: cls.id, status: 'WAITLISTED' });
		const cancelled = await makeMember(tdb.db, { classId: cls.id, status: 'CANCELLED' });
		const otherInstructor = await makeMember(tdb.db, { role: 'INSTRUCTOR' });

		for (const who of [stranger, cancelled, otherInstructor]) {
			const c = open(cls.id, who.cookie);
			expect(await c.ready()).toMatchObject({ ok: false, error: 'qa_error_not_participant' });
			expect(await c.ask('我能提问吗？')).toMatchObject({
				ok: false,
				error: 'qa_error_not_participant'
			});
		}
		expect(await tdb.db.question.count({ where: { classId: cls.id } })).toBe(0);

		const anonymous = open(cls.id, null);
		expect(await anonymous.ready()).toMatchObject({ ok: false, error: 'qa_error_unauthorized' });
		const forged = open(cls.id, 'tc_session=forged-token');
		expect(await forged.ready()).toMatchObject({ ok: false, error: 'qa_error_unauthorized' });

		const W = open(cls.id, waiting.cookie);
		expect(await W.ready()).toMatchObject({ ok: true, role: 'readonly' });
		expect(await W.ask('候补也想提问')).toMatchObject({ ok: false, error: 'qa_error_readonly' });

		const instructor = await tdb.db.user.findUniqueOrThrow({ where: { id: cls.instructorId } });
		const { createSession } = await import('../../src/lib/server/auth/session.ts');
		const { token } = await createSession(tdb.db, instructor.id, 1);
		const I = open(cls.id, `tc_session=${token}`);
		expect(await I.ready()).toMatchObject({ ok: true, role: 'moderator' });

		const A = open(cls.id, a.cookie);
		await A.ready();
		const asked = await A.ask('正常问题');
		const id = asked.ok ? asked.question!.id : '';
		for (const type of ['answeredLive', 'pin', 'hide', 'approve', 'claim'] as const) {
			expect(await A.action({ type, classId: cls.id, questionId: id })).toMatchObject({
				ok: false,
				error: 'qa_error_forbidden'
			});
		}
		expect(
			await A.action({ type: 'answer', classId: cls.id, questionId: id, text: '自问自答' })
		).toMatchObject({ ok: false, error: 'qa_error_forbidden' });
		expect(
			await A.action({ type: 'settings', classId: cls.id, preModeration: true })
		).toMatchObject({ ok: false, error: 'qa_error_forbidden' });
		expect(await I.action({ type: 'answeredLive', classId: cls.id, questionId: id })).toMatchObject(
			{ ok: true }
		);
		// Malformed events are refused, not crashed on.
		expect(await A.action({ type: 'vote', classId: 'nope', questionId: id })).toMatchObject({
			ok: false,
			error: 'qa_error_invalid'
		});
		void staff;
	});

	it('rate and length limits refuse with message keys; markup is stored as plain text', async () => {
		const { cls, a, b } = await classWithMembers();
		const A = open(cls.id, a.cookie);
		const B = open(cls.id, b.cookie);
		await Promise.all([A.ready(), B.ready()]);
		expect(await A.ask('')).toMatchObject({ ok: false, error: 'qa_error_empty' });
		expect(await A.ask('   ')).toMatchObject({ ok: false, error: 'qa_error_empty' });
		expect(await A.ask('税'.repeat(501))).toMatchObject({ ok: false, error: 'qa_error_too_long' });
		// Refused attempts above were rejected before the limiter; three pass, the fourth is limited.
		const xss = ['<script>alert(1)</script>', '<img src=x onerror="alert(2)">', '税'.repeat(500)];
		for (const text of xss) expect((await A.ask(text)).ok).toBe(true);
		const limited = await A.ask('第四个问题');
		expect(limited).toMatchObject({ ok: false, error: 'qa_error_rate_questions' });
		expect(limited.ok === false && limited.params?.limit).toBe(3);
		const stored = await tdb.db.question.findMany({
			where: { classId: cls.id },
			orderBy: { createdAt: 'asc' }
		});
		expect(stored.map((q) => q.text).slice(0, 2)).toEqual(xss.slice(0, 2));

		// 30 votes a minute: the 31st is refused.
		const author = await makeMember(tdb.db, { classId: cls.id });
		const ids: string[] = [];
		for (let i = 0; i < 31; i++) {
			const q = await tdb.db.question.create({
				data: {
					classId: cls.id,
					authorId: author.user.id,
					text: `批量问题 ${i}`,
					status: 'VISIBLE',
					version: 0
				}
			});
			ids.push(q.id);
		}
		for (const id of ids.slice(0, 30)) expect((await B.vote(id)).ok).toBe(true);
		expect(await B.vote(ids[30]!)).toMatchObject({ ok: false, error: 'qa_error_rate_votes' });
	});

	it('claims keep two staff from answering the same question', async () => {
		const { cls, a } = await classWithMembers();
		const s1 = await makeMember(tdb.db, { role: 'STAFF', name: '坐席甲' });
		const s2 = await makeMember(tdb.db, { role: 'ADMIN', name: '坐席乙' });
		const A = open(cls.id, a.cookie);
		const S1 = open(cls.id, s1.cookie);
		const S2 = open(cls.id, s2.cookie);
		await Promise.all([A.ready(), S1.ready(), S2.ready()]);
		const asked = await A.ask('谁来回答？');
		const id = asked.ok ? asked.question!.id : '';
		expect((await S1.action({ type: 'claim', classId: cls.id, questionId: id })).ok).toBe(true);
		const claimed = await waitFor(S2, (qs) =>
			qs.find((q) => q.id === id && q.staff?.claimedByName === '坐席甲')
		);
		expect(claimed.staff?.claimedById).toBe(s1.user.id);
		// Taxpayers do not see who holds a claim.
		expect(A.state.questions.get(id)?.staff).toBeUndefined();
		expect(await S2.action({ type: 'claim', classId: cls.id, questionId: id })).toMatchObject({
			ok: false,
			error: 'qa_error_claimed',
			params: { name: '坐席甲' }
		});
		expect(
			await S2.action({ type: 'answer', classId: cls.id, questionId: id, text: '乙的回答' })
		).toMatchObject({ ok: false, error: 'qa_error_claimed' });
		expect(
			(await S1.action({ type: 'answer', classId: cls.id, questionId: id, text: '甲的回答' })).ok
		).toBe(true);
		expect(
			await S2.action({ type: 'answer', classId: cls.id, questionId: id, text: '再答一次' })
		).toMatchObject({ ok: false, error: 'qa_error_already_answered' });
		const final = await waitFor(A, (qs) => qs.find((q) => q.id === id && q.answerText));
		expect(final.answerText).toBe('甲的回答');
	});

	it('records offsets from going live, and serves replay JSON and a safe CSV', async () => {
		const { db } = tdb;
		const wentLiveAt = new Date(Date.now() - 90_000);
		const cls = await makeClass(db, { status: 'LIVE' });
		await db.policyClass.update({ where: { id: cls.id }, data: { wentLiveAt } });
		const a = await makeMember(db, { classId: cls.id, name: '=HYPERLINK("x")' });
		const staff = await makeMember(db, { role: 'STAFF' });
		const A = open(cls.id, a.cookie);
		const S = open(cls.id, staff.cookie);
		await Promise.all([A.ready(), S.ready()]);
		const asked = await A.ask('直播中的问题, 含 "引号"');
		const id = asked.ok ? asked.question!.id : '';
		expect(asked.ok && asked.question!.offsetMs).toBeGreaterThanOrEqual(90_000);
		expect(asked.ok && asked.question!.offsetMs).toBeLessThan(120_000);
		// What was broadcast is what was stored.
		const stored = await db.question.findUniqueOrThrow({ where: { id } });
		expect(asked.ok && asked.question!.createdAt).toBe(stored.createdAt.toISOString());
		expect(asked.ok && asked.question!.offsetMs).toBe(stored.offsetMs);
		expect(stored.version).toBeGreaterThan(0);
		await S.action({ type: 'answer', classId: cls.id, questionId: id, text: '-1 是答案' });
		const hiddenAsk = await A.ask('被隐藏的问题');
		await S.action({
			type: 'hide',
			classId: cls.id,
			questionId: hiddenAsk.ok ? hiddenAsk.question!.id : ''
		});

		const replay = await listForReplay(db, cls.id);
		expect(replay?.wentLiveAt).toBe(wentLiveAt.toISOString());
		expect(replay?.questions.map((q) => q.text)).toEqual(['直播中的问题, 含 "引号"']);
		expect(replay?.questions[0]?.answerOffsetMs).toBeGreaterThanOrEqual(90_000);

		const csv = await questionsCsv(db, cls.id, { headers: ['a', 'b'], yes: '是', no: '否' });
		expect(csv.startsWith('\uFEFF')).toBe(true);
		expect(csv).toContain('"直播中的问题, 含 ""引号"""');
		expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
		expect(csv).toContain("'-1 是答案");
		expect(csv).toContain('被隐藏的问题');

		// Not live: no offset.
		const scheduled = await makeClass(db);
		const b = await makeMember(db, { classId: scheduled.id });
		const B = open(scheduled.id, b.cookie);
		await B.ready();
		const early = await B.ask('开课前的问题');
		expect(early.ok && early.question!.offsetMs).toBeNull();
		// Ended classes keep their questions but take no new ones.
		await db.policyClass.update({ where: { id: scheduled.id }, data: { status: 'ENDED' } });
		expect(await B.ask('下课后的问题')).toMatchObject({ ok: false, error: 'qa_error_closed' });
	});

	it('handshakes without the namespace protocol are refused cleanly', async () => {
		const raw = ioClient(`${server.url}/qa`, { transports: ['websocket'], reconnection: false });
		const err = await new Promise<Error>((resolve) => raw.on('connect_error', resolve));
		expect(err.message).toBe('unauthorized');
		raw.close();
	});
});
