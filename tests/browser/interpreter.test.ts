import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { readManifest } from '../../media-server/src/recorder/index.js';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { launchBrowser } from '../support/browser.ts';
import { Audience, statusOf } from '../support/live-browser.ts';
import { ACCOUNTS, findClassId, goLive, postForm, stubDistinctCamera } from '../support/live.ts';

/**
 * 手语翻译 in real Chromium with fake cameras, against the production build:
 * the instructor and the assigned interpreter both publish, a viewer decodes
 * both pictures and moves, enlarges and hides the interpreter's by keyboard,
 * and finds the choice kept after a reload; the replay keeps the interpreter
 * in the corner, with a version without.
 */
vi.setConfig({ expect: { poll: { timeout: 15_000, interval: 100 } } });

let app: AppServer;
let browser: Browser;
let audience: Audience;
let recordingsDir: string;
let classId: string;
let studio: Page;

beforeAll(async () => {
	recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'interpreter-'));
	[app, browser] = await Promise.all([
		startAppServer({
			MEDIA_LISTEN_IP: '127.0.0.1',
			MEDIA_WORKERS: '1',
			RECORDINGS_DIR: recordingsDir
		}),
		launchBrowser()
	]);
	audience = new Audience(browser, () => app.url);
});

afterAll(async () => {
	await audience?.close();
	await browser?.close();
	await app?.stop();
	fs.rmSync(recordingsDir, { recursive: true, force: true });
	expect(audience?.problems ?? []).toEqual([]);
});

/** Frames decoded by each inbound video track of the page's open peer connections. */
function framesPerVideoTrack(page: Page): Promise<number[]> {
	return page.evaluate(async () => {
		const frames: number[] = [];
		for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
			if (pc.connectionState === 'closed') continue;
			(await pc.getStats()).forEach((s) => {
				if (s.type === 'inbound-rtp' && s.kind === 'video') frames.push(s.framesDecoded ?? 0);
			});
		}
		return frames;
	});
}

test('a viewer watches the instructor with the interpreter picture-in-picture, placed as they like', async () => {
	classId = await findClassId(app.url);
	const assigned = await postForm(
		app.url,
		`/manage/classes/${classId}?/interpreter`,
		{ interpreter: ACCOUNTS.unregistered },
		await audience.cookie('staff')
	);
	expect(assigned.status).toBe(200);

	let signer: Page, viewer: Page;
	[studio, signer, viewer] = await Promise.all([
		audience.as('instructor'),
		// A picture of its own, so the replay's corner shows whether it is there.
		audience.as('unregistered', stubDistinctCamera),
		audience.as('taxpayer1')
	]);
	await goLive(studio, app.url, classId);

	await signer.goto(`${app.url}/classes/${classId}/interpret`);
	await expect.poll(() => statusOf(signer).textContent()).toContain('准备就绪');
	// The interpreter has no live control of the class.
	expect(await signer.getByRole('button', { name: '开始直播' }).count()).toBe(0);
	expect(await signer.getByRole('button', { name: /共享屏幕/ }).count()).toBe(0);
	await signer.getByRole('button', { name: '开始翻译' }).click();
	await expect.poll(() => statusOf(signer).textContent()).toContain('翻译画面直播中');

	await viewer.goto(`${app.url}/classes/${classId}/watch`);
	// Two pictures decoded: the instructor's and the interpreter's.
	await expect
		.poll(async () => (await framesPerVideoTrack(viewer)).filter((f) => f > 0).length)
		.toBe(2);
	const picture = viewer.getByTestId('interpreter-picture');
	await expect.poll(() => picture.isVisible()).toBe(true);
	await expect
		.poll(() => picture.evaluate((v: HTMLVideoElement) => v.videoWidth))
		.toBeGreaterThan(0);
	expect(await picture.getAttribute('class')).toContain('bottom-right');

	// By keyboard: a corner, larger, then hidden.
	const corner = viewer.getByRole('combobox', { name: '手语翻译位置' });
	await corner.focus();
	await corner.selectOption('top-left');
	await expect.poll(() => picture.getAttribute('class')).toContain('top-left');
	const enlarge = viewer.getByRole('button', { name: '放大手语翻译' });
	await enlarge.focus();
	await viewer.keyboard.press('Space');
	await expect.poll(() => enlarge.getAttribute('aria-pressed')).toBe('true');
	expect(await picture.getAttribute('data-size')).toBe('large');
	const show = viewer.getByRole('button', { name: '显示手语翻译' });
	await show.focus();
	await viewer.keyboard.press('Enter');
	await expect.poll(() => show.getAttribute('aria-pressed')).toBe('false');
	await expect.poll(() => picture.isVisible()).toBe(false);

	// Remembered: after a reload it is still hidden, large and top left; shown again on asking.
	await viewer.reload();
	await expect.poll(() => show.getAttribute('aria-pressed')).toBe('false');
	expect(await picture.isVisible()).toBe(false);
	await show.focus();
	await viewer.keyboard.press('Space');
	await expect.poll(() => picture.isVisible()).toBe(true);
	expect(await picture.getAttribute('class')).toContain('top-left');
	expect(await picture.getAttribute('data-size')).toBe('large');
});

/** Files under the recordings folder whose path matches. */
const found = (pattern: string) =>
	execFileSync('find', [recordingsDir, '-path', pattern, '-size', '+0'])
		.toString()
		.trim()
		.split('\n')
		.filter(Boolean);

/** One frame at `at` seconds, 160x90 grey levels. */
function frame(file: string, at: number): Buffer {
	const grey = execFileSync('ffmpeg', [
		...['-v', 'error', '-ss', at.toFixed(2), '-i', file, '-frames:v', '1'],
		...['-vf', 'scale=160:90', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1']
	]);
	if (grey.length !== 160 * 90) throw new Error(`no frame at ${at} s in ${file}`);
	return grey;
}

/** Mean absolute difference of two 160x90 frames inside a rectangle. */
function difference(a: Buffer, b: Buffer, x0: number, y0: number, x1: number, y1: number) {
	let sum = 0;
	for (let y = y0; y < y1; y++) {
		for (let x = x0; x < x1; x++) sum += Math.abs(a[y * 160 + x]! - b[y * 160 + x]!);
	}
	return sum / ((x1 - x0) * (y1 - y0));
}

test('the replay has the interpreter in the bottom-right corner, and a version without', async () => {
	// Some seconds of the interpreter on record, then the class ends.
	await expect
		.poll(() => found('*/interpreter/segment-*.mkv').length, { timeout: 20_000 })
		.toBeGreaterThan(0);
	await expect
		.poll(() => fs.statSync(found('*/interpreter/segment-*.mkv')[0]!).size, { timeout: 20_000 })
		.toBeGreaterThan(200_000);
	await studio.getByRole('button', { name: '结束直播' }).click();
	await studio.getByRole('button', { name: '确认结束' }).click();

	await expect
		.poll(() => found('*/with-interpreter.mp4').length, { timeout: 90_000, interval: 500 })
		.toBe(1);
	const signed = found('*/with-interpreter.mp4')[0]!;
	const plain = path.join(path.dirname(signed), 'replay.mp4');
	/** The file's video streams' durations (seconds). */
	const pictures = (file: string) =>
		(
			JSON.parse(
				execFileSync('ffprobe', [
					...['-v', 'error', '-show_entries', 'stream=codec_type,duration'],
					...['-of', 'json', file]
				]).toString()
			) as { streams: { codec_type: string; duration: string }[] }
		).streams
			.filter((s) => s.codec_type === 'video')
			.map((s) => Number(s.duration));
	expect(pictures(signed)).toHaveLength(1);
	// A frame every second of the pictures (their own ends: the sound may run
	// on past them). While the interpreter is on air, the bottom-right corner
	// differs from the plain replay and the rest does not; their camera shows
	// a picture of its own (stubDistinctCamera), so the corner is unmistakable.
	const duration = Math.min(...pictures(signed), ...pictures(plain));
	const times = Array.from({ length: Math.ceil(duration) }, (_, i) => i + 0.5).filter(
		(at) => at < duration - 0.1
	);
	const compared = times.map((at) => {
		const [withSigner, without] = [frame(signed, at), frame(plain, at)];
		return {
			at,
			corner: difference(withSigner, without, 116, 66, 156, 87),
			elsewhere: difference(withSigner, without, 4, 4, 44, 25)
		};
	});
	console.log('with vs without the interpreter', compared);
	const best = compared.reduce((a, b) => (b.corner > a.corner ? b : a));
	expect(best.corner).toBeGreaterThan(10);
	expect(best.corner).toBeGreaterThan(3 * best.elsewhere);
	// Their file starts at its first key frame, a second or more after its
	// segment started (the camera answers the recorder late): the recorder
	// notes it, and the overlay is placed there.
	const own = await readManifest(path.join(path.dirname(signed), 'interpreter'));
	const segment = own?.segments[0];
	expect(segment?.firstKeyFrameAt).toBeGreaterThanOrEqual(segment!.startedAt);

	// The replay page plays the interpreter version by default and offers the other.
	const viewer = await audience.as('taxpayer1');
	await viewer.goto(`${app.url}/classes/${classId}/replay`);
	const withRadio = viewer.getByRole('radio', { name: '含手语翻译', exact: true });
	await expect.poll(() => withRadio.isChecked(), { timeout: 30_000 }).toBe(true);
	const video = viewer.getByTestId('replay-video');
	expect(await video.getAttribute('src')).toMatch(/\/interpreter$/);
	await viewer.getByRole('radio', { name: '不含手语翻译' }).check();
	await expect
		.poll(async () => (await video.getAttribute('src')) ?? '')
		.not.toMatch(/\/interpreter$/);
});
