import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	ClassRecorder,
	createMediaServer,
	finishHlsStream,
	parseMediaPlaylist,
	PortAllocator,
	probe,
	remuxHlsToMp4,
	type ClassRoom,
	type MediaServer
} from '../../media-server/src/index.js';
import { startPublisher, waitFor } from './helpers.js';

const logger = {
	debug: () => {},
	info: () => {},
	warn: (message: string, meta?: object) => console.warn(`[packager] ${message}`, meta ?? ''),
	error: (message: string, meta?: object) => console.error(`[packager] ${message}`, meta ?? '')
};

const read = (file: string) => fs.readFileSync(file, 'utf8');
const count = (text: string, tag: string) => text.split('\n').filter((l) => l === tag).length;

// Real mediasoup, FFmpeg publishers (H.264 as the studio sends it) and packager.
describe('HLS packager', () => {
	let server: MediaServer;
	let room: ClassRoom;
	let dir: string;
	const stops: (() => Promise<void>)[] = [];

	beforeAll(async () => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hls-packager-test-'));
		server = await createMediaServer({
			numWorkers: 1,
			listenIp: '127.0.0.1',
			rtcMinPort: 44000,
			rtcMaxPort: 44499
		});
		room = await server.getOrCreateRoom('class-hls');
	});

	afterAll(async () => {
		await Promise.all(stops.map((stop) => stop()));
		await server?.close();
		if (!process.env.KEEP_RECORDING) fs.rmSync(dir, { recursive: true, force: true });
		else console.log('kept', dir);
	});

	it('packages H.264 into one HLS stream across a source switch, a camera-off and an FFmpeg kill', async () => {
		const camera = await startPublisher(room, 'teacher', { codec: 'h264', keyFrameEvery: 15 });
		stops.push(() => camera.stop());
		const mic = await startPublisher(room, 'teacher', { kind: 'audio' });
		stops.push(() => mic.stop());

		const recorder = await ClassRecorder.start(room, {
			recordingId: 'hls-1',
			logger,
			dir,
			ports: new PortAllocator(44600, 44699),
			restartDelayMs: 500
		});
		let listed = { segments: 0, seconds: 0 };
		recorder.on('playlist', (p) => (listed = p));
		const segmentsBeyond = (n: number) =>
			waitFor(`more than ${n} HLS segments`, () => listed.segments > n, 20_000);

		await segmentsBeyond(2);
		const first = recorder.currentSegment!;
		expect(first.format).toBe('hls');
		expect(first.video?.mimeType).toBe('video/H264');
		const live = read(path.join(dir, 'live.m3u8'));
		expect(live).toContain('#EXT-X-MEDIA-SEQUENCE:0');
		expect(live).toContain('#EXT-X-PROGRAM-DATE-TIME:');
		expect(live).not.toContain('#EXT-X-ENDLIST');
		// Copied H.264 is cut at the publisher's key frames (one a second).
		const early = parseMediaPlaylist(read(path.join(dir, 'index.m3u8')));
		for (const s of early) expect(s.duration).toBeLessThan(2.1);

		// Camera ⇄ screen on the same producer (replaceTrack): a new run.
		await room.request('teacher', 'setProducerSource', {
			producerId: camera.producerId,
			source: 'screen'
		});
		await waitFor('a run for the screen', () => (recorder.currentSegment?.seq ?? 0) === 2, 10_000);
		await segmentsBeyond(listed.segments + 1);

		// Camera off: the run goes on with black video, so players keep both tracks.
		await room.request('teacher', 'pauseProducer', { producerId: camera.producerId });
		await waitFor(
			'an audio-only run',
			() => recorder.currentSegment !== null && recorder.currentSegment.video === null,
			10_000
		);
		await segmentsBeyond(listed.segments + 1);
		await room.request('teacher', 'resumeProducer', { producerId: camera.producerId });
		await waitFor('video again', () => Boolean(recorder.currentSegment?.video), 10_000);
		await segmentsBeyond(listed.segments + 1);

		// FFmpeg dies mid-class: the stream continues after a discontinuity.
		const pid = recorder.ffmpegPid!;
		const before = listed.segments;
		process.kill(pid, 'SIGKILL');
		await waitFor('a run after the kill', () => recorder.currentSegment?.seq === 5, 10_000);
		await segmentsBeyond(before + 1);

		const manifest = await recorder.stop();
		await Promise.all([camera.stop(), mic.stop()]);
		expect(manifest.segments.map((s) => s.format)).toEqual(['hls', 'hls', 'hls', 'hls', 'hls']);
		expect(manifest.segments.map((s) => s.endReason)).toEqual([
			'switched',
			'switched',
			'switched',
			'died',
			'stopped'
		]);

		const finished = await finishHlsStream(dir);
		const index = read(path.join(dir, 'index.m3u8'));
		expect(index).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
		expect(index.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
		expect(read(path.join(dir, 'live.m3u8')).trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
		expect(count(index, '#EXT-X-DISCONTINUITY')).toBe(4);
		expect(index.match(/#EXT-X-PROGRAM-DATE-TIME:/g)).toHaveLength(5);
		expect(finished.timeline).toHaveLength(5);
		expect(finished.poster).toBe('poster.jpg');
		for (const s of parseMediaPlaylist(index)) {
			expect(fs.statSync(path.join(dir, s.uri)).size).toBeGreaterThan(0);
		}
		const playlistSeconds = parseMediaPlaylist(index).reduce((sum, s) => sum + s.duration, 0);
		expect(Math.abs(playlistSeconds - finished.durationSeconds)).toBeLessThan(0.01);

		const t0 = Date.now();
		const mp4 = await remuxHlsToMp4(dir);
		console.log(
			`stream ${playlistSeconds.toFixed(2)} s in ${manifest.segments.length} runs; ` +
				`MP4 remuxed in ${Date.now() - t0} ms, ${mp4.durationSeconds.toFixed(2)} s`
		);
		const info = await probe(path.join(dir, mp4.file));
		expect(info?.streams.map((s) => `${s.codecType}:${s.codecName}`).sort()).toEqual([
			'audio:aac',
			'video:h264'
		]);
		expect(Math.abs(info!.durationSeconds! - playlistSeconds)).toBeLessThanOrEqual(1);
	});
});
