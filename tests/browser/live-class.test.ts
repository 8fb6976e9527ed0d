import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { freePort, startAppServer, type AppServer } from '../support/app-server.ts';
import { launchBrowser } from '../support/browser.ts';
import { copyPgliteTemplate } from '../support/database.ts';
import { findClassId, stubScreenCapture } from '../support/live.ts';
import { Audience, decodesBeyond, playback, statusOf } from '../support/live-browser.ts';

/**
 * A whole live class in real Chromium against the production build: the
 * instructor goes live from the studio, two registered taxpayers watch,
 * the instructor switches to screen sharing and pauses the camera, the SFU
 * worker is killed mid-class, and the class ends.
 */
vi.setConfig({ expect: { poll: { timeout: 5000, interval: 100 } } });

let app: AppServer;
let browser: Browser;
let classId: string;
let appEnv: NodeJS.ProcessEnv;
let port: number;
let audience: Audience;

beforeAll(async () => {
	// Port and database fixed, so the server can be restarted mid-class. One
	// worker, so killing it certainly hits the class.
	port = await freePort();
	appEnv = {
		MEDIA_LISTEN_IP: '127.0.0.1',
		MEDIA_WORKERS: '1',
		PGLITE_DIR: copyPgliteTemplate(true)
	};
	[app, browser] = await Promise.all([startAppServer(appEnv, port), launchBrowser()]);
	audience = new Audience(browser, () => app.url);
	classId = await findClassId(app.url);
});

afterAll(async () => {
	await audience?.close();
	await browser?.close();
	await app?.stop();
});

async function classBadge(): Promise<string> {
	const html = await (await fetch(`${app.url}/classes/${classId}`)).text();
	return /class="badge">([^<]+)</.exec(html)?.[1] ?? '';
}

test('instructor goes live, registered taxpayers watch through screen share, worker loss and the end', async () => {
	const [studio, viewer1, viewer2] = await Promise.all([
		audience.as('instructor', stubScreenCapture),
		audience.as('taxpayer1'),
		audience.as('taxpayer2')
	]);

	await studio.goto(`${app.url}/classes/${classId}/studio`);
	await expect.poll(() => statusOf(studio).textContent()).toContain('准备就绪');
	await expect
		.poll(() => studio.locator('meter').evaluate((m: HTMLMeterElement) => m.value), {
			timeout: 5000
		})
		.toBeGreaterThan(0);

	// A viewer who arrives early waits for the instructor.
	await viewer1.goto(`${app.url}/classes/${classId}/watch`);
	await expect.poll(() => statusOf(viewer1).textContent()).toContain('等待讲师开始直播');

	await studio.getByRole('button', { name: '开始直播' }).click();
	const liveAt = Date.now();
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');
	await decodesBeyond(viewer1);
	console.log(`waiting viewer: first frame ${Date.now() - liveAt} ms after "go live"`);

	// A viewer who arrives during the class starts within a second or so.
	const openedAt = Date.now();
	await viewer2.goto(`${app.url}/classes/${classId}/watch`);
	await decodesBeyond(viewer2);
	console.log(`joining viewer: first frame ${Date.now() - openedAt} ms after navigation`);
	// The page's HTML started the player (its early script), and the page took
	// that viewer over once it ran instead of starting a second one.
	const started = await viewer2.evaluate(() =>
		['live:early', 'live:start'].map((name) => performance.getEntriesByName(name).length)
	);
	expect(started).toEqual([1, 1]);

	for (const viewer of [viewer1, viewer2]) {
		const first = await playback(viewer);
		const later = await decodesBeyond(viewer, first.frames);
		expect(later.width).toBeGreaterThan(0);
		await expect.poll(async () => (await playback(viewer)).audioBytes).toBeGreaterThan(0);
		await expect.poll(() => statusOf(viewer).textContent()).toContain('正在播放');
	}
	await expect.poll(() => studio.getByText('在线观众：2 人').count()).toBe(1);
	expect(await classBadge()).toBe('直播中');
	await expect
		.poll(() => studio.locator('.quality').getAttribute('data-level'), { timeout: 8000 })
		.toMatch(/good|fair|poor/);

	// Manual quality: the lowest simulcast layer.
	await viewer2.getByLabel('清晰度').selectOption('low');
	const high = (await playback(viewer2)).height;
	await expect
		.poll(async () => (await playback(viewer2)).height, { timeout: 8000 })
		.toBeLessThan(high);
	await viewer2.getByLabel('清晰度').selectOption('auto');

	// Screen sharing replaces the camera; viewers keep decoding.
	await studio.getByRole('button', { name: '共享屏幕' }).click();
	await expect.poll(() => studio.getByRole('button', { name: '切回摄像头' }).count()).toBe(1);
	for (const viewer of [viewer1, viewer2]) {
		const before = await playback(viewer);
		await decodesBeyond(viewer, before.frames + 10);
	}
	await studio.getByRole('button', { name: '切回摄像头' }).click();

	// Camera off pauses the producer: viewers see the paused state, then video again.
	await studio.getByRole('button', { name: '关闭摄像头' }).click();
	await expect.poll(() => statusOf(viewer1).textContent()).toContain('讲师暂时关闭了画面');
	await studio.getByRole('button', { name: '打开摄像头' }).click();
	await expect.poll(() => statusOf(viewer1).textContent()).toContain('正在播放');

	// The SFU worker dies mid-class; everyone recovers without a reload.
	await viewer1.evaluate(() => ((window as unknown as { __marker: number }).__marker = 42));
	const pids = execFileSync('pgrep', ['-P', String(app.process.pid), '-f', 'mediasoup-worker'])
		.toString()
		.trim()
		.split('\n');
	expect(pids).toHaveLength(1);
	const killedAt = Date.now();
	process.kill(Number(pids[0]), 'SIGKILL');
	await expect.poll(async () => (await playback(viewer1)).frames, { timeout: 3000 }).toBe(0);
	for (const viewer of [viewer1, viewer2]) {
		const recovered = await decodesBeyond(viewer, 0, 10_000 - (Date.now() - killedAt));
		await decodesBeyond(viewer, recovered.frames);
	}
	console.log(`worker killed: both viewers decoding again after ${Date.now() - killedAt} ms`);
	expect(await viewer1.evaluate(() => (window as unknown as { __marker: number }).__marker)).toBe(
		42
	);

	// The app server restarts mid-class (same port and database; the class
	// stays LIVE): studio and viewers reconnect by themselves.
	const restartedAt = Date.now();
	await app.stop();
	const stoppedIn = Date.now() - restartedAt;
	app = await startAppServer(appEnv, port);
	const upIn = Date.now() - restartedAt;
	for (const viewer of [viewer1, viewer2]) {
		const recovered = await decodesBeyond(viewer, 0, 20_000);
		await decodesBeyond(viewer, recovered.frames);
	}
	console.log(
		`server restart: stopped in ${stoppedIn} ms, serving again at ${upIn} ms, ` +
			`viewers decoding again at ${Date.now() - restartedAt} ms`
	);
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');

	// End of class.
	await studio.getByRole('button', { name: '结束直播' }).click();
	await studio.getByRole('button', { name: '确认结束' }).click();
	for (const page of [studio, viewer1, viewer2]) {
		await expect.poll(() => statusOf(page).textContent()).toContain('本次直播已结束');
	}
	expect(await classBadge()).toBe('已结束');
}, 90_000);
