import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { launchBrowser } from '../support/browser.ts';
import { findClassId, LIVE_CLASS_TITLE, stubScreenCapture } from '../support/live.ts';
import {
	Audience,
	decoding,
	explainLivePage,
	playback,
	statusOf
} from '../support/live-browser.ts';

/**
 * The studio when the camera is not there at the click on 开始直播, in real
 * Chromium against the production build: the browser is still asking for
 * it, or it was refused. Viewers get the camera once it is allowed; without
 * one they hear the class, and see the screen once it is shared.
 */
vi.setConfig({ expect: { poll: { timeout: 15_000, interval: 100 } } });

let app: AppServer;
let browser: Browser;
let audience: Audience;

beforeAll(async () => {
	[app, browser] = await Promise.all([
		startAppServer({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' }),
		launchBrowser()
	]);
	audience = new Audience(browser, () => app.url);
});

afterAll(async () => {
	await audience?.close();
	await browser?.close();
	await app?.stop();
});

/** The camera answers only once the test calls window.__grantCamera() (a pending permission prompt). */
function holdCamera() {
	const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
	let grant!: () => void;
	const granted = new Promise<void>((resolve) => (grant = resolve));
	(window as unknown as { __grantCamera: () => void }).__grantCamera = grant;
	navigator.mediaDevices.getUserMedia = async (constraints) => {
		if (constraints?.video) await granted;
		return original(constraints);
	};
}

/** The camera is refused; the microphone works. */
function refuseCamera() {
	const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
	navigator.mediaDevices.getUserMedia = async (constraints) => {
		if (constraints?.video) throw new DOMException('camera refused', 'NotAllowedError');
		return original(constraints);
	};
}

async function watch(classId: string): Promise<Page> {
	const viewer = await audience.as('staff');
	await viewer.goto(`${app.url}/classes/${classId}/watch`);
	return viewer;
}

test('a click on 开始直播 while the browser still asks for the camera goes live with the camera', async () => {
	const classId = await findClassId(app.url, LIVE_CLASS_TITLE);
	const studio = await audience.as('instructor', holdCamera);
	await studio.goto(`${app.url}/classes/${classId}/studio`);
	await studio.getByRole('button', { name: '开始直播' }).click({ timeout: 15_000 });
	// The camera is allowed only once a viewer has joined, well after a go-live
	// without it would have gone through.
	const viewer = await watch(classId);
	await viewer.waitForFunction(() =>
		performance.getEntriesByType('mark').some((m) => m.name.startsWith('live:joined:'))
	);
	await studio.evaluate(() => (window as unknown as { __grantCamera: () => void }).__grantCamera());
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');
	await viewer
		.locator('[data-state=playing]')
		.waitFor({ timeout: 20_000 })
		.catch(explainLivePage(viewer, app.output));
	await decoding(viewer);
});

test('with the camera refused, the class goes live with sound, and sharing the screen gives it a picture', async () => {
	const classId = await findClassId(app.url, '数电发票开具与红冲操作演示');
	const studio = await audience.as('instructor', stubScreenCapture);
	await studio.context().addInitScript(refuseCamera);
	await studio.goto(`${app.url}/classes/${classId}/studio`);
	await studio.getByRole('alert').waitFor();
	await studio.getByRole('button', { name: '开始直播' }).click({ timeout: 15_000 });
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');

	// Sound only: the class plays, with no picture yet.
	const viewer = await watch(classId);
	await viewer
		.locator('[data-state=playing]')
		.waitFor({ timeout: 20_000 })
		.catch(explainLivePage(viewer, app.output));
	await expect.poll(async () => (await playback(viewer)).audioBytes).toBeGreaterThan(0);
	expect((await playback(viewer)).frames).toBe(0);

	await studio.getByRole('button', { name: '共享屏幕' }).click();
	await decoding(viewer);
});
