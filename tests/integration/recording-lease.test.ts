import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../src/lib/server/db/client.ts';
import type { Recovery } from '../../src/lib/server/recordings/lifecycle.ts';
import { waitFor } from '../media-server/helpers.ts';
import { privateServerDatabase, type PrivateDatabase } from '../support/database.ts';
import { makeClass } from '../support/fixtures.ts';
import { writeInterruptedRecording } from '../support/interrupted-recording.ts';
import { startScript, type ScriptedProcess } from '../support/scripted-process.ts';

/**
 * Two app processes start together on one PostgreSQL database after a crash
 * left recording work behind (tests/support/recovery-process.ts, each its own
 * process with its own media server). Each class's recording is finished, or
 * resumed, by exactly one of them; when one is killed, the other takes its
 * live classes over once their leases expire. Runs in the pass with
 * DATABASE_URL (PGlite serves one process), on a database of its own: the
 * processes recover every class they see.
 */
describe.runIf(inject('serverDatabaseUrl'))('recording work across processes', () => {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'recording-lease-'));
	const log: string[] = [];
	const children: ChildProcess[] = [];
	let database: PrivateDatabase;
	let db: Db;

	beforeAll(async () => {
		database = await privateServerDatabase();
		db = await createDb({ DATABASE_URL: database.url, PGLITE_DIR: '' });
	});

	afterAll(async () => {
		for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
		await db?.$disconnect();
		await database?.drop();
		fs.rmSync(root, { recursive: true, force: true });
	});

	/** A recording the crash left open, with what was written (or nothing). */
	async function openRecording(classId: string, written: boolean) {
		const id = randomUUID();
		const dir = path.join(classId, id);
		const startedAt = written
			? writeInterruptedRecording(root, { classId, recordingId: id, dir })
			: Date.now() - 10_000;
		await db.recording.create({ data: { id, classId, dir, startedAt: new Date(startedAt) } });
	}

	function startProcess(instance: string, rtcPorts: number): ScriptedProcess {
		const child = startScript(
			'tests/support/recovery-process.ts',
			{
				...process.env,
				DATABASE_URL: database.url,
				REDIS_URL: '',
				INSTANCE_ID: instance,
				LEASE_SECONDS: '3',
				RECORDINGS_DIR: root,
				MEDIA_LISTEN_IP: '127.0.0.1',
				MEDIA_WORKERS: '1',
				MEDIA_RTC_MIN_PORT: String(rtcPorts),
				MEDIA_RTC_MAX_PORT: String(rtcPorts + 99),
				MEDIA_RECORDING_MIN_PORT: String(rtcPorts + 100),
				MEDIA_RECORDING_MAX_PORT: String(rtcPorts + 199)
			},
			{ log }
		);
		children.push(child.process);
		return child;
	}

	const holderOf = async (classId: string) =>
		(await db.lease.findUnique({ where: { name: `recording:${classId}` } }))?.holder ?? null;

	it('finishes or resumes each class in one process, and takes over a killed one’s', async ({
		onTestFailed
	}) => {
		onTestFailed(() => console.error(['processes:', ...log].join('\n')));
		const withFiles = await Promise.all([1, 2].map(() => makeClass(db, { status: 'ENDED' })));
		const empty = await Promise.all([1, 2, 3, 4].map(() => makeClass(db, { status: 'ENDED' })));
		const live = await Promise.all([1, 2, 3].map(() => makeClass(db, { status: 'LIVE' })));
		for (const cls of withFiles) await openRecording(cls.id, true);
		for (const cls of [...empty, ...live]) await openRecording(cls.id, false);

		const a = startProcess('lease-a', 37000);
		const b = startProcess('lease-b', 37200);
		const [ra, rb] = (await Promise.all([a.next('recovered'), b.next('recovered')])) as [
			Recovery,
			Recovery
		];
		const taken = (r: Recovery) => [...r.finishing, ...r.resuming];
		const byA = new Set(taken(ra));
		expect(taken(rb).filter((id) => byA.has(id))).toEqual([]);
		const ended = [...withFiles, ...empty].map((c) => c.id).sort();
		expect([...ra.finishing, ...rb.finishing].sort()).toEqual(ended);
		expect([...ra.resuming, ...rb.resuming].sort()).toEqual(live.map((c) => c.id).sort());

		await Promise.all([a.next('idle'), b.next('idle')]);
		const recordings = await db.recording.findMany();
		const statusOf = (classId: string) =>
			recordings.filter((r) => r.classId === classId).map((r) => r.status);
		for (const cls of withFiles) expect(statusOf(cls.id)).toEqual(['READY']);
		for (const cls of empty) expect(statusOf(cls.id)).toEqual(['FAILED']);
		for (const cls of live) expect(statusOf(cls.id)).toEqual(['RECORDING']);
		// Finished work gives its lease up; a live recording's stays with its recorder.
		const leases = await db.lease.findMany();
		expect(leases.map((l) => l.name).sort()).toEqual(live.map((c) => `recording:${c.id}`).sort());
		for (const cls of live) {
			expect(await holderOf(cls.id)).toBe(ra.resuming.includes(cls.id) ? 'lease-a' : 'lease-b');
		}

		// The process resuming the most live classes dies; the other takes them over.
		const [dying, survivor, lost] =
			ra.resuming.length >= rb.resuming.length
				? [a, 'lease-b', ra.resuming]
				: [b, 'lease-a', rb.resuming];
		dying.process.kill('SIGKILL');
		await dying.exited;
		for (const classId of lost) {
			await waitFor(
				`the survivor to take over class ${classId}`,
				async () => (await holderOf(classId)) === survivor,
				30_000
			);
		}
		const after = await db.recording.findMany({ where: { classId: { in: lost } } });
		expect(after.map((r) => r.status)).toEqual(lost.map(() => 'RECORDING'));
	}, 120_000);
});
