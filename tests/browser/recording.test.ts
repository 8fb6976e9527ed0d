import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser } from '../support/browser.ts';
import { ACCOUNTS, findClassId, loginCookie, stubScreenCapture } from '../support/live.ts';

/**
 * Recording end to end in real Chromium against the production build: the
 * instructor goes live, switches to screen share and back, a taxpayer asks a
 * question, the class ends; the recording is finalized on the server, plays
 * on the replay page, a question click seeks, and the media URL enforces
 * access and Range.
 */
vi.setConfig({ expect: { poll: { timeout: 5000, interval: 100 } } });

let app: AppServer;
let browser: Browser;
let classId: string;
let recordingsDir: string;
const contexts: BrowserContext[] = [];

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
	classId = await findClassId(app.url);
});

afterAll(async () => {
	for (const c of contexts) await c.close().catch(() => undefined);
	await browser?.close();
	await app?.stop();
	fs.rmSync(recordingsDir, { recursive: true, force: true });
});

const cookies: Partial<Record<keyof typeof ACCOUNTS, string>> = {};

async function cookieOf(account: keyof typeof ACCOUNTS): Promise<string> {
	return (cookies[account] ??= await loginCookie(app.url, ACCOUNTS[account]));
}

async function as(account: keyof typeof ACCOUNTS, init?: () => void): Promise<Page> {
	const context = await browser.newContext({ locale: 'zh-CN' });
	contexts.push(context);
	const [name, value] = (await cookieOf(account)).split('=') as [string, string];
	await context.addCookies([{ name, value, url: app.url }]);
	if (init) await context.addInitScript(init);
	const page = await context.newPage();
	page.on('pageerror', (err) => console.error(`[${account}] page error:`, err.message));
	return page;
}

const status = (page: Page) => page.getByRole('status').first();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a live class is recorded, finalized and replayed with its questions', async () => {
	const [studio, viewer] = await Promise.all([
		as('instructor', stubScreenCapture),
		as('taxpayer1')
	]);
	await studio.goto(`${app.url}/classes/${classId}/studio`);
	await expect.poll(() => status(studio).textContent(), { timeout: 15_000 }).toContain('准备就绪');
	await studio.getByRole('button', { name: '开始直播' }).click();
	await expect.poll(() => status(studio).textContent()).toContain('直播中');
	const liveAt = Date.now();

	await viewer.goto(`${app.url}/classes/${classId}/watch`);
	await sleep(3000);
	await viewer.getByLabel('您的问题').fill('留抵退税需要哪些材料？');
	await viewer.getByRole('button', { name: '提交问题' }).click();
	await expect.poll(() => viewer.getByLabel('您的问题').inputValue()).toBe('');
	const askedAt = Date.now();

	await sleep(1500);
	await studio.getByRole('button', { name: '共享屏幕' }).click();
	await expect.poll(() => studio.getByRole('button', { name: '切回摄像头' }).count()).toBe(1);
	await sleep(3000);
	await studio.getByRole('button', { name: '切回摄像头' }).click();
	await sleep(3000);

	await studio.getByRole('button', { name: '结束直播' }).click();
	await studio.getByRole('button', { name: '确认结束' }).click();
	await expect.poll(() => status(studio).textContent()).toContain('本次直播已结束');
	const liveSeconds = (Date.now() - liveAt) / 1000;

	// The class page shows progress, then the finished replay.
	const classPage = await as('instructor');
	await classPage.goto(`${app.url}/classes/${classId}`);
	const finalizeStart = Date.now();
	await expect
		.poll(() => classPage.locator('[data-testid=recordings] li').getAttribute('data-status'), {
			timeout: 90_000,
			interval: 500
		})
		.toBe('READY');
	console.log(`recording ready ${Date.now() - finalizeStart} ms after the class page opened`);
	const replayHref = await classPage
		.locator('[data-testid=recordings] a')
		.first()
		.getAttribute('href');
	const recordingId = /r=([0-9a-f-]{36})/.exec(replayHref ?? '')?.[1];
	expect(recordingId).toBeTruthy();

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
	const duration = Number(probe.format.duration);
	console.log(`live ${liveSeconds.toFixed(1)} s → replay ${duration.toFixed(1)} s`);
	expect(Math.abs(duration - liveSeconds)).toBeLessThanOrEqual(3);

	// The replay plays, and a question click seeks near when it was asked.
	await gotoHydrated(viewer, `${app.url}${replayHref}`);
	const video = viewer.getByTestId('replay-video');
	await video.evaluate((v: HTMLVideoElement) => {
		v.muted = true;
		return v.play();
	});
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

	// Media URL: Range → 206 for a registrant; 403 for an unregistered user.
	const media = `${app.url}/recordings/${recordingId}/media`;
	const ranged = await fetch(media, {
		headers: { cookie: await cookieOf('taxpayer1'), range: 'bytes=100-199' }
	});
	expect(ranged.status).toBe(206);
	expect(ranged.headers.get('content-range')).toMatch(/^bytes 100-199\/\d+$/);
	expect((await ranged.arrayBuffer()).byteLength).toBe(100);
	const stranger = await fetch(media, { headers: { cookie: await cookieOf('unregistered') } });
	expect(stranger.status).toBe(403);
	expect((await fetch(media)).status).toBe(403);
	expect(
		(
			await fetch(`${app.url}/recordings/${recordingId}/poster`, {
				headers: { cookie: await cookieOf('unregistered') }
			})
		).status
	).toBe(403);
	// Staff make it public (then anyone may fetch it), and delete it.
	const staff = await as('staff');
	await gotoHydrated(staff, `${app.url}${replayHref}`);
	await staff.getByRole('button', { name: '设为公开' }).click();
	await staff.getByRole('button', { name: '设为仅报名学员可看' }).waitFor();
	const publicRange = await fetch(media, { headers: { range: 'bytes=0-9' } });
	expect(publicRange.status).toBe(206);
	staff.once('dialog', (d) => void d.accept());
	await staff.getByRole('button', { name: '删除回放' }).click();
	await staff.getByText('回放已删除').waitFor();
	expect((await fetch(media, { headers: { cookie: await cookieOf('staff') } })).status).toBe(404);
	expect(execFileSync('find', [recordingsDir, '-name', 'replay.mp4']).toString().trim()).toBe('');
}, 240_000);
