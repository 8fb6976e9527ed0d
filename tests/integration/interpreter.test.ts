import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import {
	ACCOUNTS,
	ask,
	connected,
	findClassId,
	loginCookie,
	mediaSocket,
	postForm
} from '../support/live.ts';

/**
 * 手语翻译 against the production build: staff assign an interpreter account
 * on the manage form (a wrong account is refused with a message, the change
 * is audited), the interpreter publishes a camera beside the instructor and
 * nothing else, and handing the job to someone else takes the studio away at once.
 */
let app: AppServer;
let classId: string;
const cookies: Record<keyof typeof ACCOUNTS, string> = {} as never;
const sockets: Socket[] = [];

beforeAll(async () => {
	app = await startAppServer({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
	classId = await findClassId(app.url);
	for (const [name, contact] of Object.entries(ACCOUNTS)) {
		cookies[name as keyof typeof ACCOUNTS] = await loginCookie(app.url, contact);
	}
});

afterAll(async () => {
	for (const s of sockets) s.disconnect();
	await app?.stop();
});

async function open(account: keyof typeof ACCOUNTS): Promise<Socket> {
	const socket = mediaSocket(app.url, cookies[account]);
	sockets.push(socket);
	await connected(socket);
	return socket;
}

const assign = (interpreter: string) =>
	postForm(app.url, `/manage/classes/${classId}?/interpreter`, { interpreter }, cookies.staff);

const VIDEO_RTP = (ssrc: number) => ({
	codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
	encodings: [{ ssrc }]
});
const AUDIO_RTP = {
	codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
	encodings: [{ ssrc: 33333333 }]
};

type Reply<T = Record<string, unknown>> = { ok: boolean; error?: string; data: T };

test('staff assign an interpreter, who publishes a camera only and loses the studio when replaced', async () => {
	// Unknown accounts and the instructor are refused with a message; what was typed stays.
	const unknown = await assign('nobody@xuetang.example');
	expect(unknown.status).toBe(400);
	const unknownPage = await unknown.text();
	expect(unknownPage).toContain('没有找到使用这个手机号或邮箱的有效账户');
	expect(unknownPage).toContain('value="nobody@xuetang.example"');
	const teacher = await assign(ACCOUNTS.instructor);
	expect(teacher.status).toBe(400);
	expect(await teacher.text()).toContain('授课讲师不能同时担任本课的手语翻译');
	// A taxpayer may not assign anyone.
	const refused = await postForm(
		app.url,
		`/manage/classes/${classId}?/interpreter`,
		{ interpreter: ACCOUNTS.unregistered },
		cookies.taxpayer1
	);
	expect(refused.status).not.toBe(200);

	// Before the assignment, the account cannot interpret.
	const signer = await open('unregistered');
	expect(await ask(signer, 'live:join', { classId, role: 'interpreter' })).toEqual({
		ok: false,
		error: 'forbidden'
	});

	const assigned = await assign(ACCOUNTS.unregistered);
	expect(assigned.status).toBe(200);
	expect(await assigned.text()).toContain('手语翻译安排已保存');
	const audit = await (
		await fetch(`${app.url}/admin/audit?action=class.interpreter_assigned`, {
			headers: { cookie: cookies.admin }
		})
	).text();
	expect(audit).toContain('安排手语翻译');

	// The instructor opens the studio and goes live.
	const studio = await open('instructor');
	expect(await ask(studio, 'live:join', { classId, role: 'publisher' })).toMatchObject({
		ok: true
	});
	const studioSend = await ask<Reply<{ id: string }>>(studio, 'live:media', {
		method: 'createWebRtcTransport',
		data: { direction: 'send' }
	});
	// Only the interpreter's producers carry the interpreter tag.
	expect(
		await ask(studio, 'live:media', {
			method: 'produce',
			data: {
				transportId: studioSend.data.id,
				kind: 'video',
				rtpParameters: VIDEO_RTP(11111111),
				appData: { source: 'interpreter' }
			}
		})
	).toMatchObject({ ok: false, error: 'media' });
	const classPicture = await ask<Reply<{ id: string }>>(studio, 'live:media', {
		method: 'produce',
		data: {
			transportId: studioSend.data.id,
			kind: 'video',
			rtpParameters: VIDEO_RTP(11111111),
			appData: { source: 'camera' }
		}
	});
	expect(classPicture.ok).toBe(true);
	expect(await ask(studio, 'live:go', {})).toEqual({ ok: true, status: 'LIVE' });

	// The interpreter: a studio of their own, never the instructor's, never live control.
	expect(await ask(signer, 'live:join', { classId, role: 'publisher' })).toEqual({
		ok: false,
		error: 'forbidden'
	});
	expect(await ask(signer, 'live:join', { classId, role: 'interpreter' })).toMatchObject({
		ok: true,
		status: 'LIVE'
	});
	expect(await ask(signer, 'live:go', {})).toEqual({ ok: false, error: 'forbidden' });
	expect(await ask(signer, 'live:end', {})).toEqual({ ok: false, error: 'forbidden' });
	const send = await ask<Reply<{ id: string }>>(signer, 'live:media', {
		method: 'createWebRtcTransport',
		data: { direction: 'send' }
	});
	expect(send.ok).toBe(true);
	// Camera only: no microphone over the instructor, no screen.
	expect(
		await ask(signer, 'live:media', {
			method: 'produce',
			data: { transportId: send.data.id, kind: 'audio', rtpParameters: AUDIO_RTP }
		})
	).toMatchObject({ ok: false, error: 'media' });
	const signing = await ask<Reply<{ id: string }>>(signer, 'live:media', {
		method: 'produce',
		data: {
			transportId: send.data.id,
			kind: 'video',
			rtpParameters: VIDEO_RTP(22222222),
			appData: { source: 'screen' }
		}
	});
	expect(signing.ok).toBe(true);
	expect(
		await ask(signer, 'live:media', {
			method: 'setProducerSource',
			data: { producerId: signing.data.id, source: 'screen' }
		})
	).toMatchObject({ ok: false, error: 'media' });
	// The same per-peer limits as any publisher: the default allows 4 transports.
	for (let i = 1; i < 4; i++) {
		expect(
			await ask(signer, 'live:media', {
				method: 'createWebRtcTransport',
				data: { direction: 'send' }
			})
		).toMatchObject({ ok: true });
	}
	expect(
		await ask(signer, 'live:media', {
			method: 'createWebRtcTransport',
			data: { direction: 'send' }
		})
	).toMatchObject({ ok: false, error: 'limit' });
	// The instructor still presents: the class goes on.
	expect(await ask(studio, 'live:stats', {})).toMatchObject({ ok: true });

	// Viewers are told which picture is the interpreter's.
	const viewer = await open('taxpayer1');
	const watching = await ask<{ ok: true; producers: unknown[] }>(viewer, 'live:join', {
		classId,
		role: 'viewer'
	});
	expect(watching.producers).toEqual(
		expect.arrayContaining([
			{ id: classPicture.data.id, kind: 'video', paused: false },
			{ id: signing.data.id, kind: 'video', paused: false, interpreter: true }
		])
	);

	// Handing the job to someone else takes the studio from the old interpreter at once.
	const told = new Promise((resolve) => signer.once('live:access', resolve));
	const gone = new Promise((resolve) =>
		viewer.on('live:producer', (e: { type: string; producer: { id: string } }) => {
			if (e.type === 'closed' && e.producer.id === signing.data.id) resolve(e);
		})
	);
	expect((await assign(ACCOUNTS.taxpayer2)).status).toBe(200);
	expect(await told).toEqual({ classId });
	await gone;
	expect(
		await ask(signer, 'live:media', { method: 'getRouterRtpCapabilities', data: {} })
	).toMatchObject({ ok: false, error: 'not_joined' });
	expect(await ask(signer, 'live:join', { classId, role: 'interpreter' })).toEqual({
		ok: false,
		error: 'forbidden'
	});
	// The new interpreter may, and the instructor's picture never stopped.
	const next = await open('taxpayer2');
	expect(await ask(next, 'live:join', { classId, role: 'interpreter' })).toMatchObject({
		ok: true
	});
	expect(
		(await ask<{ producers: { id: string }[] }>(viewer, 'live:join', { classId, role: 'viewer' }))
			.producers
	).toEqual([{ id: classPicture.data.id, kind: 'video', paused: false }]);

	// Removing the interpreter (an empty field) is saved too.
	expect((await assign('')).status).toBe(200);
	expect(await ask(next, 'live:join', { classId, role: 'interpreter' })).toEqual({
		ok: false,
		error: 'forbidden'
	});
});
