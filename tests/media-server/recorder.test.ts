import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	ClassRecorder,
	createMediaServer,
	finalizeRecording,
	PortAllocator,
	probe,
	readManifest,
	type ClassRoom,
	type MediaServer
} from '../../media-server/src/index.js';
import { startPublisher, waitFor } from './helpers.js';

/** A key frame every 1/3 s: FFmpeg ignores key frame requests, which Chromium answers at once. */
function startFfmpegPublisher(room: ClassRoom, peerId: string, kind: 'audio' | 'video') {
	return startPublisher(room, peerId, { kind, keyFrameEvery: 5 });
}

/** The recorders' warnings and errors, shown in the test output. */
const logger = {
	debug: () => {},
	info: () => {},
	warn: (message: string, meta?: object) => console.warn(`[recorder] ${message}`, meta ?? ''),
	error: (message: string, meta?: object) => console.error(`[recorder] ${message}`, meta ?? '')
};

/**
 * Lets the publishers send for `ms` so the running segment holds media of that
 * length: the test needs a duration of recording here, not an event.
 */
const recordFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the running segment's FFmpeg has probed its input and written
 * media. On a loaded 2-core machine that can take seconds after the segment
 * starts; a segment stopped before then holds nothing.
 */
async function segmentOnDisk(dir: string, recorder: ClassRecorder) {
	await waitFor(
		'segment media on disk',
		() => {
			const segment = recorder.currentSegment;
			if (!segment) return false;
			const size = fs.statSync(path.join(dir, segment.file), { throwIfNoEntry: false })?.size;
			return (size ?? 0) > 0;
		},
		15_000
	);
	const segment = recorder.currentSegment!;
	console.log(
		`segment ${segment.seq} has media ${Date.now() - segment.startedAt} ms after it started`
	);
}

// Real mediasoup, real FFmpeg publishers and recorder; nothing is mocked.
describe('ClassRecorder', () => {
	let server: MediaServer;
	let room: ClassRoom;
	let dir: string;
	const stops: (() => Promise<void>)[] = [];

	beforeAll(async () => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recorder-test-'));
		server = await createMediaServer({
			numWorkers: 1,
			listenIp: '127.0.0.1',
			rtcMinPort: 43000,
			rtcMaxPort: 43499
		});
		room = await server.getOrCreateRoom('class-rec');
	});

	afterAll(async () => {
		await Promise.all(stops.map((stop) => stop()));
		await server?.close();
		if (!process.env.KEEP_RECORDING) fs.rmSync(dir, { recursive: true, force: true });
		else console.log('kept', dir);
	});

	it('records across a source switch and an FFmpeg crash, then finalizes one MP4', async () => {
		const camera = await startFfmpegPublisher(room, 'teacher', 'video');
		stops.push(() => camera.stop());
		const mic = await startFfmpegPublisher(room, 'teacher', 'audio');
		stops.push(() => mic.stop());

		const recorder = await ClassRecorder.start(room, {
			recordingId: 'rec-1',
			logger,
			dir,
			ports: new PortAllocator(43600, 43699),
			restartDelayMs: 500,
			// On a loaded CI machine FFmpeg may take over 5 s to write its first
			// bytes; the stall watchdog would then add a segment this test does not
			// expect. The watchdog has its own test below.
			stallMs: 20_000
		});
		await waitFor('first segment', () => recorder.currentSegment !== null, 10_000);
		const liveStart = recorder.currentSegment!.startedAt;
		await segmentOnDisk(dir, recorder);
		await recordFor(2000);

		// Switch: a second video source (a "screen share") replaces the camera.
		const screen = await startFfmpegPublisher(room, 'teacher', 'video');
		stops.push(() => screen.stop());
		await room.request('teacher', 'closeProducer', { producerId: camera.producerId });
		await camera.stop();
		await waitFor(
			'segment on the new source',
			() => recorder.currentSegment?.video?.producerId === screen.producerId,
			10_000
		);
		await segmentOnDisk(dir, recorder);
		await recordFor(1500);

		// FFmpeg dies: a new segment must follow within seconds.
		const pid = recorder.ffmpegPid!;
		const killedAt = Date.now();
		process.kill(pid, 'SIGKILL');
		await waitFor(
			'segment after the crash',
			() => recorder.ffmpegPid !== undefined && recorder.ffmpegPid !== pid,
			5000
		);
		await waitFor('media flowing again', () => recorder.currentSegment !== null, 5000);
		const resumedAt = recorder.currentSegment!.startedAt;
		const killGap = (resumedAt - killedAt) / 1000;
		await segmentOnDisk(dir, recorder);
		await recordFor(2000);

		const manifest = await recorder.stop();
		// Nothing may keep sending at this worker's ports once the next test kills it.
		await Promise.all([screen.stop(), mic.stop()]);
		const liveSeconds = (manifest.endedAt! - liveStart) / 1000;
		expect(manifest.segments.map((s) => s.endReason)).toEqual(['switched', 'died', 'stopped']);
		expect(manifest.segments[1]!.video?.producerId).toBe(screen.producerId);
		for (const s of manifest.segments) expect(s.audio?.producerId).toBe(mic.producerId);
		expect(await readManifest(dir)).toEqual(manifest);

		const progress: number[] = [];
		const t0 = Date.now();
		const result = await finalizeRecording(dir, { onProgress: (p) => progress.push(p) });
		console.log(
			`finalized ${liveSeconds.toFixed(1)} s live (kill gap ${killGap.toFixed(2)} s) into ` +
				`${result.durationSeconds.toFixed(2)} s in ${Date.now() - t0} ms; progress ${progress.join(',')}`
		);
		expect(result.skipped).toEqual([]);
		expect(progress.at(-1)).toBe(100);
		expect(progress).toEqual([...progress].sort((a, b) => a - b));

		const info = await probe(path.join(dir, result.file));
		expect(info?.streams.filter((s) => s.codecType === 'video').map((s) => s.codecName)).toEqual([
			'h264'
		]);
		expect(info?.streams.filter((s) => s.codecType === 'audio').map((s) => s.codecName)).toEqual([
			'aac'
		]);
		expect(Math.abs(info!.durationSeconds! - (liveSeconds - killGap))).toBeLessThanOrEqual(2);
		expect(result.timeline).toHaveLength(3);
		expect(result.poster).toBe('poster.jpg');
		expect(fs.statSync(path.join(dir, 'poster.jpg')).size).toBeGreaterThan(1000);
		// +faststart: the index comes before the media.
		const head = fs.readFileSync(path.join(dir, result.file)).subarray(0, 4096).toString('latin1');
		expect(head.indexOf('moov')).toBeGreaterThan(-1);
		expect(head.indexOf('moov')).toBeLessThan(
			head.indexOf('mdat') === -1 ? 4096 : head.indexOf('mdat')
		);
	});
	it('keeps recording across a mediasoup worker restart', async () => {
		const room2 = await server.getOrCreateRoom('class-rec-2');
		const dir2 = path.join(dir, 'worker-restart');
		const before = [
			await startFfmpegPublisher(room2, 'teacher', 'video'),
			await startFfmpegPublisher(room2, 'teacher', 'audio')
		];
		for (const p of before) stops.push(() => p.stop());
		const recorder = await ClassRecorder.start(room2, {
			recordingId: 'rec-2',
			logger,
			dir: dir2,
			ports: new PortAllocator(43700, 43799),
			restartDelayMs: 500
		});
		await waitFor('first segment', () => (recorder.currentSegment?.audio ?? null) !== null, 10_000);
		await segmentOnDisk(dir2, recorder);
		await recordFor(2000);

		const rebuilt = new Promise<void>((resolve) => room2.once('rebuilt', () => resolve()));
		const [worker] = await server.getWorkerStats();
		process.kill(worker!.pid, 'SIGKILL');
		await rebuilt;
		await Promise.all(before.map((p) => p.stop()));
		// The publisher redoes its transports, as the signaling layer tells it to.
		const after = [
			await startFfmpegPublisher(room2, 'teacher', 'video'),
			await startFfmpegPublisher(room2, 'teacher', 'audio')
		];
		for (const p of after) stops.push(() => p.stop());
		await waitFor(
			'segment on the new producers',
			() => recorder.currentSegment?.video?.producerId === after[0]!.producerId,
			10_000
		);
		await segmentOnDisk(dir2, recorder);
		await recordFor(2000);
		const manifest = await recorder.stop();
		// One segment before the restart, one after; a segment the stall watchdog
		// replaced (see the next test) holds nothing and is the only kind skipped.
		const stalled = manifest.segments.filter((s) => s.endReason === 'stalled').map((s) => s.seq);
		expect(manifest.segments).toHaveLength(2 + stalled.length);
		const result = await finalizeRecording(dir2);
		expect(result.skipped).toEqual(stalled);
		expect(result.timeline).toHaveLength(2);
		expect(result.durationSeconds).toBeGreaterThan(3);
	});

	it('starts a new segment when FFmpeg writes nothing while media flows', async () => {
		const room3 = await server.getOrCreateRoom('class-rec-3');
		const dir3 = path.join(dir, 'stall');
		const publishers = [
			await startFfmpegPublisher(room3, 'teacher', 'video'),
			await startFfmpegPublisher(room3, 'teacher', 'audio')
		];
		for (const p of publishers) stops.push(() => p.stop());
		const recorder = await ClassRecorder.start(room3, {
			recordingId: 'rec-3',
			logger,
			dir: dir3,
			ports: new PortAllocator(43800, 43899),
			stallMs: 2000
		});
		// Freeze the first FFmpeg before any media reaches it: it writes nothing.
		const frozen = await new Promise<number>((resolve) =>
			recorder.once('segmentStarted', () => resolve(recorder.ffmpegPid!))
		);
		process.kill(frozen, 'SIGSTOP');
		await waitFor(
			'a segment after the stall',
			() => recorder.currentSegment !== null && recorder.ffmpegPid !== frozen,
			15_000
		);
		await segmentOnDisk(dir3, recorder);
		const manifest = await recorder.stop();
		expect(manifest.segments[0]!.endReason).toBe('stalled');
		// FFmpeg creates its file only once it has probed the input.
		const first = fs.statSync(path.join(dir3, manifest.segments[0]!.file), {
			throwIfNoEntry: false
		});
		expect(first?.size ?? 0).toBe(0);
	});
});
