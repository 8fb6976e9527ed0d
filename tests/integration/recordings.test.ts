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
import { writeInterruptedRecording } from '../support/interrupted-recording.ts';
import { Leases } from '../../src/lib/server/leases.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'recordings-int-'));
process.env.RECORDINGS_DIR = root;

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
		const t0 = writeInterruptedRecording(root, { classId: cls.id, recordingId: id, dir });
		await t.db.recording.create({
			data: { id, classId: cls.id, dir, startedAt: new Date(t0) }
		});

		// Recovery of a finished class needs no media server: none is started.
		await startRecordings({
			db: t.db,
			events: EventBus.local(),
			media: () => Promise.reject(new Error('recovery must not start media')),
			leases: new Leases(t.db, 'recordings-test'),
			resumeLive: false
		});
		await finalizationIdle();

		const rec = await t.db.recording.findUniqueOrThrow({ where: { id } });
		expect(rec.status).toBe('READY');
		expect(rec.progress).toBe(100);
		expect(rec.endedAt).not.toBeNull();
		expect(await t.db.lease.findUnique({ where: { name: `recording:${cls.id}` } })).toBeNull();
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
