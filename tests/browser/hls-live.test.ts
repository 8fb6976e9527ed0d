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
	explainLivePage,
	playback,
	statusOf
} from '../support/live-browser.ts';

/**
 * The live class's HLS side in real Chromium against the production build,
 * with room for one WebRTC viewer: the instructor goes live with H.264, one
 * taxpayer watches over WebRTC, the next one overflows to HLS (hls.js) and
 * is told why, staff see the split, the HLS stream survives a killed FFmpeg
 * and a switch to the screen, a late viewer rewinds to the start and comes
 * back to live, a viewer chooses 流畅模式 and back, one whose WebRTC cannot
 * work falls back to HLS by itself, and the overflowed viewer returns to
 * WebRTC once a place is free.
 */
vi.setConfig({ expect: { poll: { timeout: 10_000, interval: 200 } } });

let app: AppServer;
let browser: Browser;
let classId: string;
let recordingsDir: string;
let audience: Audience;

beforeAll(async () => {
	recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hls-live-e2e-'));
	[app, browser] = await Promise.all([
		startAppServer({
			MEDIA_LISTEN_IP: '127.0.0.1',
			MEDIA_WORKERS: '1',
			MEDIA_RTC_MIN_PORT: '38000',
			MEDIA_RTC_MAX_PORT: '38999',
			MEDIA_RECORDING_MIN_PORT: '39000',
			MEDIA_RECORDING_MAX_PORT: '39099',
			MEDIA_MAX_WEBRTC_VIEWERS: '1',
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
	fs.rmSync(recordingsDir, { recursive: true, force: true });
});

/** A browser whose WebRTC cannot connect (as behind a firewall that drops it). */
function breakWebRtc() {
	window.RTCPeerConnection = class {
		constructor() {
			throw new Error('WebRTC is blocked here');
		}
	} as unknown as typeof RTCPeerConnection;
}

/** Video frames the page's open peer connections decoded. */
const webRtcFrames = async (page: Page) => (await playback(page)).frames;

type HlsPlayback = { source: string; time: number; frames: number };

function hlsPlayback(page: Page): Promise<HlsPlayback> {
	return page.evaluate(() => {
		const v = document.querySelector('video')!;
		return {
			source: v.src,
			time: v.currentTime,
			frames: v.getVideoPlaybackQuality().totalVideoFrames
		};
	});
}

/**
 * The page plays HLS (hls.js feeds the <video> a blob: MediaSource), its time
 * moves on and it decodes video. Measured from the first moment that source
 * is attached: times from an earlier source (WebRTC, another playlist) do not count.
 */
async function hlsAdvances(page: Page, by = 1, timeout = 15_000): Promise<HlsPlayback> {
	let start: HlsPlayback | undefined;
	let last: HlsPlayback | undefined;
	await expect
		.poll(
			async () => {
				last = await hlsPlayback(page);
				if (!last.source.startsWith('blob:')) return false;
				if (start?.source !== last.source) start = last;
				return last.time > start.time + by && last.frames > 0;
			},
			{ timeout }
		)
		.toBe(true);
	return last!;
}

const mode = (page: Page) => page.getByTestId('live-mode').getAttribute('data-mode');
const reason = (page: Page) => page.getByTestId('hls-reason').getAttribute('data-reason');

test('HLS for overflow, choice and fallback; rewind; the stream survives FFmpeg and source faults', async () => {
	const [studio, webrtc, overflow] = await Promise.all([
		audience.as('instructor', stubScreenCapture),
		audience.as('taxpayer1'),
		audience.as('taxpayer2')
	]);
	await studio.goto(`${app.url}/classes/${classId}/studio`);
	await expect.poll(() => statusOf(studio).textContent()).toContain('准备就绪');
	await studio.getByRole('button', { name: '开始直播' }).click();
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');
	const liveAt = Date.now();

	// The first viewer takes the one WebRTC place.
	await gotoHydrated(webrtc, `${app.url}/classes/${classId}/watch`);
	await decodesBeyond(webrtc, 0, 20_000);
	expect(await mode(webrtc)).toBe('webrtc');

	// The studio sends H.264, which the server packages as HLS.
	await expect
		.poll(() => fetch(`${app.url}/classes/${classId}/live-stream`).then((r) => r.status), {
			timeout: 20_000
		})
		.not.toBe(404);
	const manifestFile = execFileSync('find', [recordingsDir, '-name', 'manifest.json'])
		.toString()
		.trim();
	const manifest = () =>
		JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
			segments: { video: { mimeType: string } | null; endReason?: string }[];
		};
	expect(manifest().segments[0]?.video?.mimeType).toBe('video/H264');

	// The second gets HLS, and is told why.
	await gotoHydrated(overflow, `${app.url}/classes/${classId}/watch`);
	await expect.poll(() => mode(overflow)).toBe('hls');
	expect(await reason(overflow)).toBe('overflow');
	await expect.poll(() => overflow.getByTestId('hls-reason').textContent()).toContain('人数已满');
	await hlsAdvances(overflow);
	await expect.poll(() => statusOf(overflow).textContent()).toContain('正在播放');
	expect(await webRtcFrames(overflow)).toBe(0);

	// Staff see the split.
	const staff = await audience.as('staff');
	await gotoHydrated(staff, `${app.url}/classes/${classId}/console`);
	const split = staff.getByTestId('audience-split');
	await expect.poll(() => split.getAttribute('data-webrtc')).toBe('1');
	await expect.poll(() => split.getAttribute('data-hls')).toBe('1');

	// A question shows as a mark on the rewind bar.
	await webrtc.getByLabel('您的问题').fill('留抵退税的时间节点是什么？');
	await webrtc.getByRole('button', { name: '提交问题' }).click();
	// The bar refreshes its marks when the viewer turns to it.
	await expect
		.poll(
			async () => {
				await overflow.mouse.move(0, 0);
				await overflow.getByTestId('rewind').hover();
				return overflow.locator('[data-testid=rewind] .marker').count();
			},
			{ timeout: 15_000, interval: 1000 }
		)
		.toBe(1);

	// Faults: FFmpeg killed mid-class, then the camera swapped for the screen;
	// the HLS viewer plays on through both discontinuities.
	const recorderFfmpeg = execFileSync('pgrep', ['-P', String(app.process.pid), 'ffmpeg'])
		.toString()
		.trim()
		.split('\n');
	expect(recorderFfmpeg).toHaveLength(1);
	process.kill(Number(recorderFfmpeg[0]), 'SIGKILL');
	await hlsAdvances(overflow, 4, 25_000);
	await studio.getByRole('button', { name: '共享屏幕' }).click();
	await expect.poll(() => studio.getByRole('button', { name: '切回摄像头' }).count()).toBe(1);
	// A run for the screen (simulcast layer switches may add more).
	await expect
		.poll(() => manifest().segments.length, { timeout: 15_000 })
		.toBeGreaterThanOrEqual(3);
	await hlsAdvances(overflow, 4, 25_000);
	await expect.poll(() => statusOf(overflow).textContent()).toContain('正在播放');

	// Rewind: back to the first seconds of the class, then to live in one click.
	const rewind = overflow.getByTestId('rewind');
	await rewind.locator('input[type=range]').evaluate((input: HTMLInputElement) => {
		input.value = '2';
		input.dispatchEvent(new Event('change', { bubbles: true }));
	});
	await expect.poll(() => rewind.textContent()).toContain('正在回看');
	await expect
		.poll(async () => {
			const p = await hlsPlayback(overflow);
			return p.source.startsWith('blob:') && p.frames > 0 && p.time > 0 && p.time < 8;
		})
		.toBe(true);
	const rewound = await hlsAdvances(overflow, 0.5);
	expect(rewound.time).toBeLessThan(10);
	// 流畅模式 by choice, and back to WebRTC. The overflowed viewer is rewound
	// meanwhile, so it does not try for the WebRTC place this frees.
	await webrtc.getByRole('button', { name: '切换到流畅模式 (HTTP)' }).click();
	await expect.poll(() => mode(webrtc)).toBe('hls');
	expect(await reason(webrtc)).toBe('chosen');
	await hlsAdvances(webrtc);

	// With that place free, a browser whose WebRTC cannot connect watches HLS
	// after a few seconds.
	const blocked = await audience.as('admin', breakWebRtc);
	await gotoHydrated(blocked, `${app.url}/classes/${classId}/watch`);
	await expect.poll(() => mode(blocked), { timeout: 20_000 }).toBe('hls');
	expect(await reason(blocked)).toBe('fallback');
	await hlsAdvances(blocked);

	await webrtc.getByRole('button', { name: '切换到实时模式 (WebRTC)' }).click();
	await expect.poll(() => mode(webrtc)).toBe('webrtc');
	const frames = await webRtcFrames(webrtc);
	await expect.poll(() => webRtcFrames(webrtc)).toBeGreaterThan(frames);

	await rewind.getByRole('button', { name: '回到直播' }).click();
	await expect.poll(() => rewind.textContent()).not.toContain('正在回看');
	await hlsAdvances(overflow, 0.5);
	// Live again: the playhead is within the last few segments.
	const behind = () =>
		overflow.evaluate(() => {
			const v = document.querySelector('video')!;
			return v.seekable.length > 0 ? v.seekable.end(v.seekable.length - 1) - v.currentTime : 99;
		});
	await expect.poll(behind).toBeLessThan(6);
	console.log(
		`back to live ${(await behind()).toFixed(1)} s behind the edge, ${((Date.now() - liveAt) / 1000).toFixed(0)} s into the class`
	);

	await webrtc.getByRole('button', { name: '切换到流畅模式 (HTTP)' }).click();
	await expect.poll(() => mode(webrtc)).toBe('hls');

	// A WebRTC place is free again (the others watch HLS): the viewer sent to
	// HLS by the overflow goes back to WebRTC by itself.
	// It tries every 20 s, and a try that comes before the place is free is lost.
	await expect
		.poll(() => mode(overflow), { timeout: 60_000 })
		.toBe('webrtc')
		.catch(explainLivePage(overflow));
	await expect.poll(() => webRtcFrames(overflow)).toBeGreaterThan(0);

	// The end reaches the HLS viewers through the playlist's ENDLIST.
	await studio.getByRole('button', { name: '结束直播' }).click();
	await studio.getByRole('button', { name: '确认结束' }).click();
	for (const viewer of [webrtc, blocked]) {
		await expect
			.poll(() => statusOf(viewer).textContent(), { timeout: 20_000 })
			.toContain('本次直播已结束');
	}
	console.log(
		'runs ended by',
		manifest()
			.segments.map((s) => s.endReason)
			.join(', ')
	);
}, 240_000);
