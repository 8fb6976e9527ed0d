import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { videoTimeAt, type TimelineEntry } from '../../media-server/src/index.ts';
import { openPGlite } from '../../src/lib/server/db/adapter.ts';
import { createDb, type Db } from '../../src/lib/server/db/client.ts';
import { PrismaClient, type Prisma } from '../../src/lib/server/db/generated/client.ts';
import { waitFor } from '../media-server/helpers.ts';
import { copyPgliteTemplate } from '../support/database.ts';
import { makeClass, makeUser } from '../support/fixtures.ts';
import { startScript, type ScriptedProcess } from '../support/scripted-process.ts';

/**
 * Crash recovery as one replay, with real restarts: the recording side of
 * the app (tests/support/recording-process.ts: lifecycle, media server, an
 * H.264 publisher) is killed with SIGKILL mid-class and started again on the
 * same database and recordings folder. The class ends up with one recording
 * whose stream and MP4 hold both parts, the gap cut out.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'recording-restart-'));
const serverUrl = inject('serverDatabaseUrl');
const dbEnv = serverUrl
	? { DATABASE_URL: serverUrl, PGLITE_DIR: '' }
	: { DATABASE_URL: '', PGLITE_DIR: copyPgliteTemplate() };
const children: ChildProcess[] = [];
/** FFmpeg publishers outlive a killed app side, as the studio's browser does. */
const publisherPids: number[] = [];
/** What the app sides printed besides their events, shown if the test fails. */
const appLog: string[] = [];

/** PGlite allows one process on its folder, so the test opens it only while no child runs. */
async function withDb<T>(use: (db: Db) => Promise<T>): Promise<T> {
	if (dbEnv.DATABASE_URL) {
		const db = await createDb(dbEnv);
		try {
			return await use(db);
		} finally {
			await db.$disconnect();
		}
	}
	const pglite = await openPGlite(dbEnv.PGLITE_DIR);
	const db = new PrismaClient({
		adapter: new PrismaPGlite(pglite) as unknown as NonNullable<
			Prisma.PrismaClientOptions['adapter']
		>
	});
	try {
		return await use(db);
	} finally {
		await db.$disconnect();
		await pglite.close();
	}
}

function startAppSide(env: NodeJS.ProcessEnv): ScriptedProcess {
	const child = startScript('tests/support/recording-process.ts', env, {
		log: appLog,
		onEvent: (event) => {
			if (event.event === 'publishing') publisherPids.push(...(event.pids as number[]));
		}
	});
	children.push(child.process);
	return child;
}

type Manifest = {
	startedAt: number;
	segments: {
		seq: number;
		format: string;
		pid?: number;
		startedAt: number;
		endedAt: number | null;
		endReason?: string;
	}[];
};

function recordingDir(): string | null {
	const found = execFileSync('find', [root, '-name', 'manifest.json']).toString().trim();
	return found ? path.dirname(found) : null;
}

const readManifest = (dir: string) =>
	JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;

function listedSegments(dir: string): number {
	const file = path.join(dir, 'index.m3u8');
	if (!fs.existsSync(file)) return 0;
	return fs
		.readFileSync(file, 'utf8')
		.split('\n')
		.filter((l) => l.startsWith('#EXTINF:')).length;
}

/** Whether a process runs (a zombie that no one reaped does not). */
function running(pid: number): boolean {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

afterAll(() => {
	for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
	for (const pid of publisherPids) if (running(pid)) process.kill(pid, 'SIGKILL');
	fs.rmSync(root, { recursive: true, force: true });
});

describe('a class recording across an app restart', () => {
	it('continues as one replay: both parts joined, the gap cut out, questions placed right', async ({
		onTestFailed
	}) => {
		onTestFailed(() => {
			const dir = recordingDir();
			console.error(
				[
					'app sides:',
					...appLog,
					`manifest: ${dir ? JSON.stringify(readManifest(dir)) : 'none'}`,
					`files: ${dir ? execFileSync('find', [dir, '-type', 'f', '-printf', '%P %s\\n']) : ''}`
				].join('\n')
			);
		});
		const { classId, instructorId } = await withDb(async (db) => {
			const instructor = await makeUser(db, 'INSTRUCTOR');
			const cls = await makeClass(db, { status: 'SCHEDULED', instructorId: instructor.id });
			return { classId: cls.id, instructorId: instructor.id };
		});
		const env = {
			...process.env,
			...dbEnv,
			RECORDINGS_DIR: root,
			MEDIA_LISTEN_IP: '127.0.0.1',
			MEDIA_WORKERS: '1',
			MEDIA_RTC_MIN_PORT: '36000',
			MEDIA_RTC_MAX_PORT: '36499',
			MEDIA_RECORDING_MIN_PORT: '36600',
			MEDIA_RECORDING_MAX_PORT: '36699',
			// The restarted side is the same instance: it takes its leases back at once.
			INSTANCE_ID: 'recording-side',
			CLASS_ID: classId,
			INSTRUCTOR_ID: instructorId
		};

		const first = startAppSide(env);
		const publishers = (await first.next('publishing')).pids as number[];
		first.send('go');
		expect((await first.next('live')).ok).toBe(true);
		const liveAt = Date.now();
		await waitFor('the recording folder', () => recordingDir() !== null, 20_000);
		const dir = recordingDir()!;
		await waitFor('four segments before the crash', () => listedSegments(dir) >= 4, 30_000);

		const killedAt = Date.now();
		first.process.kill('SIGKILL');
		await first.exited;
		// The crash leaves the publisher (the studio's browser) behind; the
		// recording FFmpeg dies with its process instead of running on.
		for (const pid of publishers) process.kill(pid, 'SIGKILL');
		const recorderPid = readManifest(dir).segments[0]!.pid!;
		await waitFor(
			'the recording FFmpeg to die with its process',
			() => !running(recorderPid),
			10_000
		);
		const before = listedSegments(dir);

		const second = startAppSide(env);
		await second.next('publishing');
		await waitFor(
			'four segments after the restart',
			() => listedSegments(dir) >= before + 4,
			30_000
		);
		const endedAt = Date.now();
		second.send('end');
		expect((await second.next('finished')).ok).toBe(true);
		await second.exited;

		const manifest = readManifest(dir);
		expect(manifest.segments.map((s) => [s.format, s.endReason])).toEqual([
			['hls', 'crashed'],
			['hls', 'stopped']
		]);
		const [part1, part2] = manifest.segments as [Manifest['segments'][0], Manifest['segments'][0]];
		const gap = (part2.startedAt - killedAt) / 1000;

		const rows = await withDb((db) => db.recording.findMany({ where: { classId } }));
		expect(rows).toHaveLength(1);
		const rec = rows[0]!;
		expect(rec.status).toBe('READY');
		expect(rec.playlistPath).toBe(path.join(path.relative(root, dir), 'index.m3u8'));
		expect(rec.filePath).toBe(path.join(path.relative(root, dir), 'replay.mp4'));

		const playlist = fs.readFileSync(path.join(dir, 'index.m3u8'), 'utf8');
		expect(playlist.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
		expect(playlist.split('\n').filter((l) => l === '#EXT-X-DISCONTINUITY')).toHaveLength(1);
		const duration = Number(
			execFileSync('ffprobe', [
				...['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0'],
				path.join(dir, 'replay.mp4')
			]).toString()
		);
		const expected = (endedAt - liveAt) / 1000 - gap;
		console.log(
			`live ${((endedAt - liveAt) / 1000).toFixed(1)} s, gap ${gap.toFixed(1)} s → ` +
				`one video of ${duration.toFixed(1)} s (expected about ${expected.toFixed(1)} s)`
		);
		expect(Math.abs(duration - expected)).toBeLessThanOrEqual(3);
		expect(rec.durationSeconds).toBeCloseTo(duration, 0);

		// Questions: one asked during the gap shows where the second part
		// starts; one asked 2 s into it, 2 s later.
		const timeline = JSON.parse(
			fs.readFileSync(path.join(dir, 'timeline.json'), 'utf8')
		) as TimelineEntry[];
		expect(timeline).toHaveLength(2);
		const at = (epochMs: number) => videoTimeAt(timeline, epochMs - manifest.startedAt);
		expect(at(killedAt + 500)).toBeCloseTo(timeline[1]!.videoStart, 2);
		expect(at(part2.startedAt + 2000)).toBeCloseTo(timeline[1]!.videoStart + 2, 2);
		expect(at(part1.startedAt + 1000)).toBeCloseTo(1, 2);
	}, 180_000);
});
