import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { ACCOUNTS, ask, findClassId, loginCookie, MediaSockets } from '../support/live.ts';

/**
 * The '/media' signaling namespace against the production build: who may
 * publish and who may watch, and that refused requests change nothing.
 */
let app: AppServer;
let classId: string;
const cookies: Record<keyof typeof ACCOUNTS, string> = {} as never;
const sockets = new MediaSockets(() => app.url);

beforeAll(async () => {
	app = await startAppServer({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
	classId = await findClassId(app.url);
	for (const [name, contact] of Object.entries(ACCOUNTS)) {
		cookies[name as keyof typeof ACCOUNTS] = await loginCookie(app.url, contact);
	}
});

afterAll(async () => {
	sockets.close();
	await app?.stop();
});

const VIDEO_RTP = {
	codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
	encodings: [{ ssrc: 22222222 }]
};

async function classStatus(): Promise<string> {
	const html = await (await fetch(`${app.url}/classes/${classId}`)).text();
	return /class="badge">([^<]+)</.exec(html)?.[1] ?? '';
}

test('refuses forged or absent sessions, unregistered viewers and non-instructor publishers', async () => {
	// The instructor publishes (a producer with no media behind it is enough here).
	const teacher = await sockets.open(cookies.instructor);
	const joined = await ask(teacher, 'live:join', { classId, role: 'publisher' });
	expect(joined).toMatchObject({ ok: true, status: 'SCHEDULED', producers: [] });
	const transport = await ask<{ ok: true; data: { id: string } }>(teacher, 'live:media', {
		method: 'createWebRtcTransport',
		data: { direction: 'send' }
	});
	expect(transport.ok).toBe(true);
	const produced = await ask<{ ok: true; data: { id: string } }>(teacher, 'live:media', {
		method: 'produce',
		data: { transportId: transport.data.id, kind: 'video', rtpParameters: VIDEO_RTP }
	});
	expect(produced.ok).toBe(true);
	const producerId = produced.data.id;

	// Absent and forged sessions never get a socket.
	await expect(sockets.open(null)).rejects.toThrow('unauthorized');
	await expect(sockets.open('tc_session=forged-token-value')).rejects.toThrow('unauthorized');
	const sessionName = cookies.taxpayer1.split('=')[0];
	await expect(sockets.open(`${sessionName}=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`)).rejects.toThrow(
		'unauthorized'
	);

	// A taxpayer who is not registered cannot consume.
	const zhao = await sockets.open(cookies.unregistered);
	expect(await ask(zhao, 'live:join', { classId, role: 'viewer' })).toEqual({
		ok: false,
		error: 'forbidden'
	});
	expect(
		await ask(zhao, 'live:media', { method: 'getRouterRtpCapabilities', data: {} })
	).toMatchObject({ ok: false, error: 'not_joined' });

	// Days before the start, a registered viewer waits without media.
	const taxpayer = await sockets.open(cookies.taxpayer1);
	expect(await ask(taxpayer, 'live:join', { classId, role: 'viewer' })).toEqual({
		ok: true,
		status: 'SCHEDULED',
		viewerCount: 0,
		producers: [],
		waiting: 'opening'
	});
	expect(
		await ask(taxpayer, 'live:media', {
			method: 'createWebRtcTransport',
			data: { direction: 'recv' }
		})
	).toMatchObject({ ok: false, error: 'not_joined' });

	// The instructor goes live; the waiting viewer hears it and joins with media.
	const heard = new Promise((resolve) => taxpayer.once('live:status', resolve));
	expect(await ask(teacher, 'live:go', {})).toEqual({ ok: true, status: 'LIVE' });
	expect(await heard).toMatchObject({ classId, status: 'LIVE' });
	expect(await classStatus()).toBe('直播中');
	expect(await ask(teacher, 'live:go', {})).toEqual({ ok: true, status: 'LIVE' });

	// A registered taxpayer may watch but not produce, pause or go live.
	expect(await ask(taxpayer, 'live:join', { classId, role: 'publisher' })).toEqual({
		ok: false,
		error: 'forbidden'
	});
	const watching = await ask(taxpayer, 'live:join', { classId, role: 'viewer' });
	expect(watching).toMatchObject({ ok: true, producers: [{ id: producerId, kind: 'video' }] });
	expect(
		await ask(taxpayer, 'live:media', {
			method: 'createWebRtcTransport',
			data: { direction: 'send' }
		})
	).toMatchObject({ ok: false, error: 'forbidden' });
	const recv = await ask<{ ok: true; data: { id: string } }>(taxpayer, 'live:media', {
		method: 'createWebRtcTransport',
		data: { direction: 'recv' }
	});
	expect(recv.ok).toBe(true);
	for (const method of ['produce', 'pauseProducer', 'closeProducer', 'resumeProducer']) {
		expect(
			await ask(taxpayer, 'live:media', {
				method,
				data: { transportId: recv.data.id, producerId, kind: 'video', rtpParameters: VIDEO_RTP }
			})
		).toMatchObject({ ok: false, error: 'forbidden' });
	}
	expect(await ask(taxpayer, 'live:go', {})).toMatchObject({ ok: false, error: 'forbidden' });
	expect(await ask(taxpayer, 'live:end', {})).toMatchObject({ ok: false, error: 'forbidden' });
	expect(await ask(taxpayer, 'live:stats', {})).toMatchObject({ ok: false, error: 'forbidden' });

	// Malformed messages are refused too.
	for (const [event, payload] of [
		['live:join', { classId: 'not-a-uuid', role: 'viewer' }],
		['live:join', { classId, role: 'owner' }],
		['live:join', 'garbage'],
		['live:join', { classId, role: 'viewer', recvTransport: 'yes' }],
		['live:media', { method: 'dropEverything', data: {} }],
		['live:media', { method: 'consume', data: 'x' }],
		['live:go', { force: true }]
	] as const) {
		expect(await ask(teacher, event, payload)).toMatchObject({ ok: false, error: 'invalid' });
	}
	expect(
		await ask(taxpayer, 'live:media', { method: 'consume', data: { transportId: recv.data.id } })
	).toMatchObject({ ok: false, error: 'media' });

	// Staff may watch any class. The join also brings the receive transport and,
	// given capabilities, a paused consumer of each producer: round trips fewer.
	const staff = await sockets.open(cookies.staff);
	const caps = watching['routerRtpCapabilities'];
	const staffJoin = await ask<{
		ok: true;
		recvTransport: { id: string; iceCandidates: unknown[] };
		consumers: { id: string; producerId: string; kind: string }[];
	}>(staff, 'live:join', { classId, role: 'viewer', recvTransport: true, rtpCapabilities: caps });
	expect(staffJoin.ok).toBe(true);
	expect(staffJoin.recvTransport.id).toMatch(/^[0-9a-f-]{36}$/);
	expect(staffJoin.recvTransport.iceCandidates.length).toBeGreaterThan(0);
	expect(staffJoin.consumers).toMatchObject([{ producerId, kind: 'video' }]);
	// That consumer is the staff member's own: it resumes, and a second one is refused.
	expect(
		await ask(staff, 'live:media', {
			method: 'resumeConsumer',
			data: { consumerId: staffJoin.consumers[0]!.id }
		})
	).toMatchObject({ ok: true });
	expect(
		await ask(staff, 'live:media', {
			method: 'consume',
			data: { transportId: staffJoin.recvTransport.id, producerId, rtpCapabilities: caps }
		})
	).toMatchObject({ ok: false, error: 'limit' });

	// Nothing changed: the producer is still there, unpaused.
	const second = await sockets.open(cookies.taxpayer2);
	expect(await ask(second, 'live:join', { classId, role: 'viewer' })).toMatchObject({
		ok: true,
		status: 'LIVE',
		producers: [{ id: producerId, kind: 'video', paused: false }]
	});
	expect(await ask(teacher, 'live:stats', {})).toMatchObject({
		ok: true,
		quality: { viewerCount: 3 }
	});
});

test('a viewer who cancels the registration is told at once and refused on rejoining', async () => {
	const invoiceClass = await findClassId(app.url, '数电发票开具与红冲操作演示');
	const viewer = await sockets.open(cookies.taxpayer2);
	expect(await ask(viewer, 'live:join', { classId: invoiceClass, role: 'viewer' })).toMatchObject({
		ok: true,
		waiting: 'opening'
	});
	const told = new Promise((resolve) => viewer.once('live:access', resolve));

	// Cancelling on the class page, as the browser would post it.
	const response = await fetch(`${app.url}/classes/${invoiceClass}?/cancel`, {
		method: 'POST',
		headers: {
			cookie: cookies.taxpayer2,
			origin: app.url,
			'content-type': 'application/x-www-form-urlencoded'
		},
		body: ''
	});
	expect(response.status).toBe(200);
	expect(await told).toEqual({ classId: invoiceClass });
	expect(await ask(viewer, 'live:join', { classId: invoiceClass, role: 'viewer' })).toEqual({
		ok: false,
		error: 'forbidden'
	});
});
