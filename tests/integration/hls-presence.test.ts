import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { copyPgliteTemplate, writePglite } from '../support/database.ts';
import { ACCOUNTS, ask, findClassId, MediaSockets } from '../support/live.ts';

/**
 * A viewer on the class's HLS stream joins the '/media' namespace with
 * `hls: true`: counted in live attendance and told of the class's status,
 * with no SFU peer and no WebRTC seat (the studio's viewer count stays put).
 */
let app: AppServer;
let dir: string;
let classId: string;
const sockets = new MediaSockets(() => app.url);

beforeAll(async () => {
	dir = copyPgliteTemplate(true);
	app = await startAppServer({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', PGLITE_DIR: dir });
	classId = await findClassId(app.url);
});

afterAll(async () => {
	sockets.close();
	await app?.stop();
});

test('an HLS viewer is present in the class without a WebRTC seat', async () => {
	const [teacher, webrtc, hls] = await Promise.all([
		sockets.as('instructor'),
		sockets.as('taxpayer1'),
		sockets.as('taxpayer2')
	]);
	expect(await ask(teacher, 'live:join', { classId, role: 'publisher' })).toMatchObject({
		ok: true
	});
	expect(await ask(teacher, 'live:go', {})).toEqual({ ok: true, status: 'LIVE' });
	const counts: number[] = [];
	teacher.on('live:viewers', (e: { count: number }) => counts.push(e.count));
	expect(await ask(webrtc, 'live:join', { classId, role: 'viewer' })).toMatchObject({ ok: true });

	// Only a viewer watches over HLS.
	expect(await ask(teacher, 'live:join', { classId, role: 'publisher', hls: true })).toEqual({
		ok: false,
		error: 'invalid'
	});
	const joined = await ask(hls, 'live:join', { classId, role: 'viewer', hls: true });
	expect(joined).toEqual({ ok: true, status: 'LIVE', viewerCount: 1, producers: [] });
	// No SFU peer: media requests are refused.
	expect(
		await ask(hls, 'live:media', { method: 'createWebRtcTransport', data: { direction: 'recv' } })
	).toMatchObject({ ok: false, error: 'not_joined' });

	// The studio's count never counted it: a second WebRTC viewer makes two.
	const second = await sockets.as('taxpayer1');
	expect(await ask(second, 'live:join', { classId, role: 'viewer' })).toMatchObject({ ok: true });
	await expect.poll(() => counts.at(-1)).toBe(2);
	expect(counts).toEqual([1, 2]);

	// The HLS viewer hears the end like everyone in the class.
	const ended = new Promise((resolve) => hls.once('live:status', resolve));
	expect(await ask(teacher, 'live:end', {})).toMatchObject({ ok: true, status: 'ENDED' });
	expect(await ended).toMatchObject({ classId, status: 'ENDED' });
	hls.disconnect();

	await app.stop();
	const rows = await writePglite(dir, (db) =>
		db.liveAttendance.findMany({ where: { classId, user: { phone: ACCOUNTS.taxpayer2 } } })
	);
	expect(rows).toHaveLength(1);
	expect(rows[0]!.leftAt).not.toBeNull();
});
