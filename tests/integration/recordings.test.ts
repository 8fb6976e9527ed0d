import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFacts } from '../../src/lib/server/class-access.ts';
import { EventBus } from '../../src/lib/server/events.ts';
import { finalizationIdle, startRecordings } from '../../src/lib/server/recordings/lifecycle.ts';
import { parseRange, serveFile } from '../../src/lib/server/recordings/serve.ts';
import { recordingAccess } from '../../src/lib/server/recordings/service.ts';
import type { SessionUser } from '../../src/lib/server/auth/session.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUser } from '../support/fixtures.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'recordings-int-'));
process.env.RECORDINGS_DIR = root;

function segment(dir: string, file: string, seconds: number, withVideo: boolean) {
	execFileSync('ffmpeg', [
		'-hide_banner',
		'-loglevel',
		'error',
		'-y',
		...(withVideo ? ['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15'] : []),
		'-f',
		'lavfi',
		'-i',
		'sine=frequency=440:sample_rate=48000',
		'-t',
		String(seconds),
		...(withVideo ? ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'] : []),
		'-c:a',
		'libopus',
		path.join(dir, file)
	]);
}

const asUser = (u: { id: string; role: SessionUser['role']; displayName: string }) =>
	({ ...u, email: null, phone: null, priorityService: false, careMode: null }) as SessionUser;

describe('recordings', () => {
	let t: TestDatabase;

	beforeAll(async () => {
		t = await openTestDatabase();
	});

	afterAll(async () => {
		await t?.close();
		fs.rmSync(root, { recursive: true, force: true });
	});

	it('finalizes a recording a crash left RECORDING, from what is on disk', async () => {
		const cls = await makeClass(t.db, { status: 'ENDED' });
		const id = randomUUID();
		const dir = path.join(cls.id, id);
		fs.mkdirSync(path.join(root, dir), { recursive: true });
		// Camera for 3 s, then 2 s with the camera off (audio only); the server
		// died during the second segment, so it has no end time.
		segment(path.join(root, dir), 'segment-0001.mkv', 3, true);
		segment(path.join(root, dir), 'segment-0002.mkv', 2, false);
		const t0 = Date.now() - 10_000;
		fs.writeFileSync(
			path.join(root, dir, 'manifest.json'),
			JSON.stringify({
				version: 1,
				classId: cls.id,
				recordingId: id,
				startedAt: t0,
				endedAt: null,
				segments: [
					{
						seq: 1,
						file: 'segment-0001.mkv',
						startedAt: t0,
						endedAt: t0 + 3000,
						video: { producerId: 'v', mimeType: 'video/VP8' },
						audio: { producerId: 'a', mimeType: 'audio/opus' },
						endReason: 'switched'
					},
					{
						seq: 2,
						file: 'segment-0002.mkv',
						startedAt: t0 + 3500,
						endedAt: null,
						video: null,
						audio: { producerId: 'a', mimeType: 'audio/opus' }
					}
				]
			})
		);
		await t.db.recording.create({
			data: { id, classId: cls.id, dir, startedAt: new Date(t0) }
		});

		// Recovery of a finished class needs no media server: none is started.
		await startRecordings({
			db: t.db,
			events: EventBus.local(),
			media: () => Promise.reject(new Error('recovery must not start media')),
			resumeLive: false
		});
		await finalizationIdle();

		const rec = await t.db.recording.findUniqueOrThrow({ where: { id } });
		expect(rec.status).toBe('READY');
		expect(rec.progress).toBe(100);
		expect(rec.endedAt).not.toBeNull();
		expect(rec.durationSeconds).toBeGreaterThan(4);
		expect(rec.durationSeconds).toBeLessThan(6);
		expect(fs.existsSync(path.join(root, rec.filePath!))).toBe(true);
		expect(fs.existsSync(path.join(root, rec.posterPath!))).toBe(true);
		expect(fs.existsSync(path.join(root, dir, 'segment-0001.mkv'))).toBe(false);
		const timeline = JSON.parse(fs.readFileSync(path.join(root, dir, 'timeline.json'), 'utf8'));
		expect(timeline.map((e: { wallStartMs: number }) => e.wallStartMs)).toEqual([0, 3500]);
	}, 60_000);

	it('lets registrants, managers and (when public) everyone watch; nobody else', async () => {
		const instructor = await makeUser(t.db, 'INSTRUCTOR');
		const cls = await makeClass(t.db, { status: 'ENDED', instructorId: instructor.id });
		const [registrant, waitlisted, stranger, staff] = await Promise.all([
			makeUser(t.db),
			makeUser(t.db),
			makeUser(t.db),
			makeUser(t.db, 'STAFF')
		]);
		await t.db.registration.create({
			data: { classId: cls.id, userId: registrant.id, status: 'CONFIRMED' }
		});
		await t.db.registration.create({
			data: {
				classId: cls.id,
				userId: waitlisted.id,
				status: 'WAITLISTED',
				waitlistedAt: new Date()
			}
		});
		const access = (u: typeof stranger | null, v: 'REGISTRANTS' | 'PUBLIC') =>
			recordingAccess(databaseFacts(t.db), u ? asUser(u) : null, cls, v);
		expect(await access(registrant, 'REGISTRANTS')).toBe('view');
		expect(await access(waitlisted, 'REGISTRANTS')).toBe('none');
		expect(await access(stranger, 'REGISTRANTS')).toBe('none');
		expect(await access(null, 'REGISTRANTS')).toBe('none');
		expect(await access(staff, 'REGISTRANTS')).toBe('manage');
		expect(await access(instructor, 'REGISTRANTS')).toBe('manage');
		expect(await access(stranger, 'PUBLIC')).toBe('view');
		expect(await access(null, 'PUBLIC')).toBe('view');
	});

	it('serves byte ranges', async () => {
		const file = path.join(root, 'range.bin');
		fs.writeFileSync(file, Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256)));
		const get = (range?: string, method = 'GET') =>
			serveFile(
				file,
				new Request('http://x/', { method, headers: range ? { range } : {} }),
				'video/mp4'
			);

		const whole = await get();
		expect(whole.status).toBe(200);
		expect(whole.headers.get('accept-ranges')).toBe('bytes');
		expect((await whole.arrayBuffer()).byteLength).toBe(1000);

		const part = await get('bytes=100-199');
		expect(part.status).toBe(206);
		expect(part.headers.get('content-range')).toBe('bytes 100-199/1000');
		const bytes = new Uint8Array(await part.arrayBuffer());
		expect(bytes.length).toBe(100);
		expect(bytes[0]).toBe(100);

		const open = await get('bytes=990-');
		expect(open.headers.get('content-range')).toBe('bytes 990-999/1000');
		const suffix = await get('bytes=-10');
		expect(suffix.headers.get('content-range')).toBe('bytes 990-999/1000');
		expect((await get('bytes=5000-')).status).toBe(416);
		const head = await get('bytes=0-9', 'HEAD');
		expect(head.status).toBe(206);
		expect(head.headers.get('content-length')).toBe('10');
		expect(parseRange('bytes=0-1,5-6', 1000)).toBeNull();
		expect(
			(await serveFile(path.join(root, 'missing'), new Request('http://x/'), 'x')).status
		).toBe(404);
	});
});
