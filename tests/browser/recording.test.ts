import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser } from '../support/browser.ts';
import { findClassId, stubScreenCapture } from '../support/live.ts';
import {
	Audience,
	decodesBeyond,
	decoding,
	playback,
	playLoadedMuted,
	statusOf
} from '../support/live-browser.ts';

/**
 * Recording end to end in real Chromium against the production build: the
 * instructor goes live (H.264), switches to screen share and back, a
 * taxpayer asks a question, the class ends; the HLS stream is the replay at
 * once, the MP4 is remuxed after, the replay plays through hls.js, a
 * question click seeks, and the media and HLS URLs enforce access.
 */
vi.setConfig({ expect: { poll: { timeout: 5000, interval: 100 } } });

let app: AppServer;
let browser: Browser;
let classId: string;
let recordingsDir: string;
let audience: Audience;

beforeAll(async () => {
	recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recordings-e2e-'));
	[app, browser] = await Promise.all([
		startAppServer({
			MEDIA_LISTEN_IP: '127.0.0.1',
			MEDIA_WORKERS: '1',
			MEDIA_RTC_MIN_PORT: '45000',
			MEDIA_RTC_MAX_PORT: '45999',
			MEDIA_RECORDING_MIN_PORT: '46000',
			MEDIA_RECORDING_MAX_PORT: '46099',
			RECORDINGS_DIR: recordingsDir
		}),
		launchBrowser()
	]);
	audience = new Audience(browser, () => app.url);
	classId = await findClassId(app.url);
});

afterAll(async () => {
	await audience?.close();
	await browser?.close();
	await app?.stop();
	if (!process.env.KEEP_RECORDING) fs.rmSync(recordingsDir, { recursive: true, force: true });
	else console.log('kept', recordingsDir);
});

/** The live stream runs on: the viewer decodes `frames` more of it. */
async function streamRunsOn(viewer: Page, frames: number) {
	await decodesBeyond(viewer, (await playback(viewer)).frames + frames);
}

test('a live class is recorded, finalized and replayed with its questions', async () => {
	const [studio, viewer] = await Promise.all([
		audience.as('instructor', stubScreenCapture),
		audience.as('taxpayer1')
	]);
	await studio.goto(`${app.url}/classes/${classId}/studio`);
	await expect
		.poll(() => statusOf(studio).textContent(), { timeout: 15_000 })
		.toContain('准备就绪');
	await studio.getByRole('button', { name: '开始直播' }).click();
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');
	const liveAt = Date.now();

	await viewer.goto(`${app.url}/classes/${classId}/watch`);
	await decoding(viewer);
	await viewer.getByLabel('您的问题').fill('留抵退税需要哪些材料？');
	await viewer.getByRole('button', { name: '提交问题' }).click();
	await expect.poll(() => viewer.getByLabel('您的问题').inputValue()).toBe('');
	const askedAt = Date.now();

	await streamRunsOn(viewer, 30);
	await studio.getByRole('button', { name: '共享屏幕' }).click();
	await expect.poll(() => studio.getByRole('button', { name: '切回摄像头' }).count()).toBe(1);
	await streamRunsOn(viewer, 60);
	await studio.getByRole('button', { name: '切回摄像头' }).click();
	await expect.poll(() => studio.getByRole('button', { name: '共享屏幕' }).count()).toBe(1);
	await streamRunsOn(viewer, 60);

	await studio.getByRole('button', { name: '结束直播' }).click();
	await studio.getByRole('button', { name: '确认结束' }).click();
	await expect.poll(() => statusOf(studio).textContent()).toContain('本次直播已结束');
	const endedAt = Date.now();
	const liveSeconds = (endedAt - liveAt) / 1000;

	// The class page shows the replay as soon as the stream is closed.
	const classPage = await audience.as('instructor');
	await classPage.goto(`${app.url}/classes/${classId}`);
	await expect
		.poll(() => classPage.locator('[data-testid=recordings] li').getAttribute('data-status'), {
			timeout: 30_000,
			interval: 500
		})
		.toBe('READY');
	const replayHref = await classPage
		.locator('[data-testid=recordings] a')
		.first()
		.getAttribute('href');
	const recordingId = /r=([0-9a-f-]{36})/.exec(replayHref ?? '')?.[1];
	expect(recordingId).toBeTruthy();

	// The studio published H.264, so the replay is the class's HLS stream,
	// closed with #EXT-X-ENDLIST within 10 s of the end.
	const playlistUrl = `${app.url}/recordings/${recordingId}/hls/index.m3u8`;
	const playlist = await (
		await fetch(playlistUrl, { headers: { cookie: await audience.cookie('taxpayer1') } })
	).text();
	console.log(`replay playlist closed ${Date.now() - endedAt} ms after the class ended`);
	expect(playlist.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
	// Camera, screen, camera: three runs at least (a simulcast layer switch on
	// a busy machine starts one more), all H.264 HLS, joined by discontinuities.
	const manifest = JSON.parse(
		fs.readFileSync(
			execFileSync('find', [recordingsDir, '-name', 'manifest.json']).toString().trim(),
			'utf8'
		)
	) as { segments: { format: string; video: { mimeType: string } | null }[] };
	expect(manifest.segments.length).toBeGreaterThanOrEqual(3);
	const discontinuities = playlist.split('\n').filter((l) => l === '#EXT-X-DISCONTINUITY');
	expect(discontinuities.length).toBeGreaterThanOrEqual(2);
	expect(discontinuities.length).toBeLessThanOrEqual(manifest.segments.length - 1);
	expect(new Set(manifest.segments.map((s) => `${s.format} ${s.video?.mimeType}`))).toEqual(
		new Set(['hls video/H264'])
	);
	const streamSeconds = [...playlist.matchAll(/^#EXTINF:([\d.]+),/gm)].reduce(
		(sum, match) => sum + Number(match[1]),
		0
	);
	console.log(`live ${liveSeconds.toFixed(1)} s → stream ${streamSeconds.toFixed(1)} s`);
	// What is not in it: the wait for the first key frame of the top layer
	// and at each switch, a second or two each on a busy machine.
	expect(streamSeconds).toBeGreaterThan(liveSeconds / 2);
	expect(streamSeconds).toBeLessThanOrEqual(liveSeconds);

	// The MP4 follows, remuxed: ffprobe reads it, as long as the stream.
	await classPage.goto(`${app.url}${replayHref}`);
	await expect
		.poll(
			async () => {
				await classPage.reload();
				return classPage.getByRole('link', { name: '下载 MP4' }).count();
			},
			{ timeout: 60_000, interval: 1000 }
		)
		.toBe(1);
	const mp4 = execFileSync('find', [recordingsDir, '-name', 'replay.mp4']).toString().trim();
	const probe = JSON.parse(
		execFileSync('ffprobe', [
			'-v',
			'error',
			'-show_entries',
			'format=duration:stream=codec_type,codec_name',
			'-of',
			'json',
			mp4
		]).toString()
	) as { format: { duration: string }; streams: { codec_type: string; codec_name: string }[] };
	expect(probe.streams.filter((s) => s.codec_type === 'video').map((s) => s.codec_name)).toEqual([
		'h264'
	]);
	expect(probe.streams.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name)).toEqual([
		'aac'
	]);
	expect(Math.abs(Number(probe.format.duration) - streamSeconds)).toBeLessThanOrEqual(1);

	// The replay plays (hls.js), a question click seeks near when it was
	// asked, and it plays to the end.
	await gotoHydrated(viewer, `${app.url}${replayHref}`);
	const video = viewer.getByTestId('replay-video');
	await playLoadedMuted(video);
	expect(await video.evaluate((v: HTMLVideoElement) => v.src)).toMatch(/^blob:/);
	await expect
		.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 })
		.toBeGreaterThan(0.5);
	const questionButton = viewer.getByRole('button', { name: /留抵退税需要哪些材料/ });
	const at = Number(await questionButton.getAttribute('data-at'));
	expect(Math.abs(at - (askedAt - liveAt) / 1000)).toBeLessThanOrEqual(3);
	await video.evaluate((v: HTMLVideoElement) => (v.currentTime = v.duration - 0.5));
	await questionButton.click();
	await expect
		.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime))
		.toBeGreaterThanOrEqual(at - 0.5);
	expect(await video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeLessThan(at + 3);
	await expect.poll(() => viewer.locator('li.active').count()).toBe(1);
	await video.evaluate((v: HTMLVideoElement) => (v.currentTime = Math.max(0, v.duration - 2)));
	await expect
		.poll(() => video.evaluate((v: HTMLVideoElement) => v.ended), { timeout: 10_000 })
		.toBe(true);

	// HLS: an unregistered user gets 403 for the playlist and a segment.
	const segmentUrl = `${app.url}/recordings/${recordingId}/hls/${/^run-\d+\/seg-\d+\.ts$/m.exec(playlist)?.[0]}`;
	for (const url of [playlistUrl, segmentUrl]) {
		expect(
			(await fetch(url, { headers: { cookie: await audience.cookie('unregistered') } })).status
		).toBe(403);
		expect((await fetch(url)).status).toBe(403);
	}
	const segment = await fetch(segmentUrl, {
		headers: { cookie: await audience.cookie('taxpayer1') }
	});
	expect(segment.status).toBe(200);
	expect(segment.headers.get('content-type')).toBe('video/mp2t');
	expect(segment.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');

	// Media URL: Range → 206 for a registrant; 403 for an unregistered user.
	const media = `${app.url}/recordings/${recordingId}/media`;
	const ranged = await fetch(media, {
		headers: { cookie: await audience.cookie('taxpayer1'), range: 'bytes=100-199' }
	});
	expect(ranged.status).toBe(206);
	expect(ranged.headers.get('content-range')).toMatch(/^bytes 100-199\/\d+$/);
	expect((await ranged.arrayBuffer()).byteLength).toBe(100);
	const stranger = await fetch(media, {
		headers: { cookie: await audience.cookie('unregistered') }
	});
	expect(stranger.status).toBe(403);
	expect((await fetch(media)).status).toBe(403);
	expect(
		(
			await fetch(`${app.url}/recordings/${recordingId}/poster`, {
				headers: { cookie: await audience.cookie('unregistered') }
			})
		).status
	).toBe(403);
	// Staff make it public (then anyone may fetch it), and delete it.
	const staff = await audience.as('staff');
	await gotoHydrated(staff, `${app.url}${replayHref}`);
	await staff.getByRole('button', { name: '设为公开' }).click();
	await staff.getByRole('button', { name: '设为仅报名学员可看' }).waitFor();
	const publicRange = await fetch(media, { headers: { range: 'bytes=0-9' } });
	expect(publicRange.status).toBe(206);
	// A public recording's segments are served to anyone, and shared caches may keep them.
	await expect.poll(async () => (await fetch(segmentUrl)).status, { timeout: 8000 }).toBe(200);
	expect((await fetch(segmentUrl)).headers.get('cache-control')).toBe(
		'public, max-age=31536000, immutable'
	);
	staff.once('dialog', (d) => void d.accept());
	await staff.getByRole('button', { name: '删除回放' }).click();
	await staff.getByText('回放已删除').waitFor();
	expect((await fetch(media, { headers: { cookie: await audience.cookie('staff') } })).status).toBe(
		404
	);
	expect(execFileSync('find', [recordingsDir, '-name', 'replay.mp4']).toString().trim()).toBe('');
	expect((await fetch(segmentUrl)).status).toBe(404);
}, 240_000);
