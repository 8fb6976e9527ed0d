import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { ask, findClassId, MediaSockets } from '../support/live.ts';

/**
 * A hostile registrant against the /media namespace of the production build:
 * floods of transports, consumers, joins and connections are refused past the
 * limits, while the class and the other viewers carry on and the SFU's open
 * ports stay bounded.
 */
let app: AppServer;
let classId: string;
const sockets = new MediaSockets(() => app.url);

beforeAll(async () => {
	app = await startAppServer({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
	classId = await findClassId(app.url);
});

afterAll(async () => {
	sockets.close();
	await app?.stop();
});

/** Sockets (UDP and TCP) held by the app's mediasoup worker processes. */
function workerSockets(): number {
	const pids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(app.process.pid)], {
		encoding: 'utf8'
	})
		.split('\n')
		.map((p) => p.trim())
		.filter(Boolean);
	let count = 0;
	for (const pid of pids) {
		const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
		if (!cmd.includes('mediasoup-worker')) continue;
		for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
			const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
			if (target.startsWith('socket:')) count++;
		}
	}
	return count;
}

const VIDEO_RTP = {
	codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
	encodings: [{ ssrc: 33333333 }]
};

type Reply<T = unknown> = { ok: true; data: T } | { ok: false; error: string };

test('a registrant flooding the SFU is refused past each limit; the class carries on', async () => {
	// Days before the start, a registrant gets no transport at all.
	const hostile = await sockets.as('taxpayer1');
	expect(await ask(hostile, 'live:join', { classId, role: 'viewer' })).toMatchObject({
		ok: true,
		waiting: 'opening'
	});
	const early = await Promise.all(
		Array.from({ length: 50 }, () =>
			ask<Reply>(hostile, 'live:media', {
				method: 'createWebRtcTransport',
				data: { direction: 'recv' }
			})
		)
	);
	expect(early.every((r) => !r.ok && r.error === 'not_joined')).toBe(true);

	// The instructor publishes and goes live.
	const teacher = await sockets.as('instructor');
	expect(await ask(teacher, 'live:join', { classId, role: 'publisher' })).toMatchObject({
		ok: true
	});
	const send = await ask<Reply<{ id: string }>>(teacher, 'live:media', {
		method: 'createWebRtcTransport',
		data: { direction: 'send' }
	});
	if (!send.ok) throw new Error('no send transport');
	const produced = await ask<Reply<{ id: string }>>(teacher, 'live:media', {
		method: 'produce',
		data: { transportId: send.data.id, kind: 'video', rtpParameters: VIDEO_RTP }
	});
	if (!produced.ok) throw new Error('could not produce');
	expect(await ask(teacher, 'live:go', {})).toEqual({ ok: true, status: 'LIVE' });
	const baseline = workerSockets();

	// Concurrent joins on one connection: each is answered, and none runs beside
	// another (a join still under way makes the next one busy; see also
	// socket-sessions.test.ts, which holds a join open to show it).
	const joins = await Promise.all(
		Array.from({ length: 20 }, () =>
			ask<{ ok: boolean; error?: string; routerRtpCapabilities?: unknown }>(hostile, 'live:join', {
				classId,
				role: 'viewer',
				recvTransport: true
			})
		)
	);
	expect(joins.some((j) => j.ok)).toBe(true);
	expect(joins.filter((j) => !j.ok).every((j) => j.error === 'busy')).toBe(true);
	const caps = joins.find((j) => j.ok)!.routerRtpCapabilities;

	// 300 more transports: every one refused, as the join brought the one allowed.
	const transports = await Promise.all(
		Array.from({ length: 300 }, () =>
			ask<Reply<{ id: string }>>(hostile, 'live:media', {
				method: 'createWebRtcTransport',
				data: { direction: 'recv' }
			})
		)
	);
	expect(transports.every((t) => !t.ok && t.error === 'limit')).toBe(true);

	// One consumer per producer, however many times it asks, even all at once.
	const again = await ask<{ ok: true; recvTransport: { id: string } }>(hostile, 'live:join', {
		classId,
		role: 'viewer',
		recvTransport: true
	});
	const consumes = await Promise.all(
		Array.from({ length: 100 }, () =>
			ask<Reply>(hostile, 'live:media', {
				method: 'consume',
				data: {
					transportId: again.recvTransport.id,
					producerId: produced.data.id,
					rtpCapabilities: caps
				}
			})
		)
	);
	expect(consumes.filter((c) => c.ok)).toHaveLength(1);
	expect(consumes.filter((c) => !c.ok).every((c) => !c.ok && c.error === 'limit')).toBe(true);

	// More connections of the same user in this class stop at the limit.
	const extra: { ok: boolean; error?: string }[] = [];
	for (let i = 0; i < 4; i++) {
		extra.push(await ask(await sockets.as('taxpayer1'), 'live:join', { classId, role: 'viewer' }));
	}
	expect(extra.map((r) => r.error ?? 'ok')).toEqual([
		'ok',
		'ok',
		'too_many_connections',
		'too_many_connections'
	]);

	// The worker holds a bounded number of ports: the flood added none beyond the limits.
	expect(workerSockets() - baseline).toBeLessThanOrEqual(3 * 2);

	// The class carries on: another registrant watches, the instructor still publishes.
	const other = await sockets.as('taxpayer2');
	const watching = await ask<{ ok: true; recvTransport: { id: string }; producers: unknown[] }>(
		other,
		'live:join',
		{ classId, role: 'viewer', recvTransport: true }
	);
	expect(watching.producers).toHaveLength(1);
	expect(
		await ask(other, 'live:media', {
			method: 'consume',
			data: {
				transportId: watching.recvTransport.id,
				producerId: produced.data.id,
				rtpCapabilities: caps
			}
		})
	).toMatchObject({ ok: true });
	expect(await ask(teacher, 'live:stats', {})).toMatchObject({ ok: true });
	// Publishers have limits of their own.
	const sends = await Promise.all(
		Array.from({ length: 10 }, () =>
			ask<Reply>(teacher, 'live:media', {
				method: 'createWebRtcTransport',
				data: { direction: 'send' }
			})
		)
	);
	expect(sends.filter((s) => s.ok)).toHaveLength(3);
	expect(sends.filter((s) => !s.ok).every((s) => !s.ok && s.error === 'limit')).toBe(true);
});
