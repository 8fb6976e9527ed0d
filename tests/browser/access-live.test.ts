import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser } from '../support/browser.ts';
import { Audience, decoding, playLoadedMuted, statusOf } from '../support/live-browser.ts';
import { findClassId, postForm } from '../support/live.ts';

/**
 * Access that follows changes live, in real Chromium against the production
 * build: a class cancelled while live stops for everyone at once and keeps
 * its recording for staff; a waitlisted viewer moves up and starts watching
 * and asking without a reload; signing out in one tab ends that browser's
 * live connections. Every page here (studio, watch, manage, console, replay)
 * runs under the Content-Security-Policy with no violation reported.
 */
vi.setConfig({ expect: { poll: { timeout: 15_000, interval: 100 } } });

let app: AppServer;
let browser: Browser;
let audience: Audience;
let recordingsDir: string;

beforeAll(async () => {
	recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'access-live-'));
	[app, browser] = await Promise.all([
		startAppServer({
			MEDIA_LISTEN_IP: '127.0.0.1',
			MEDIA_WORKERS: '1',
			MEDIA_RTC_MIN_PORT: '42000',
			MEDIA_RTC_MAX_PORT: '42999',
			MEDIA_RECORDING_MIN_PORT: '43000',
			MEDIA_RECORDING_MAX_PORT: '43099',
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

async function goLive(classId: string): Promise<Page> {
	const studio = await audience.as('instructor');
	await studio.goto(`${app.url}/classes/${classId}/studio`);
	await expect.poll(() => statusOf(studio).textContent()).toContain('准备就绪');
	await studio.getByRole('button', { name: '开始直播' }).click();
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');
	return studio;
}

function ffmpegChildren(): number {
	try {
		return execFileSync('pgrep', ['-P', String(app.process.pid), 'ffmpeg'], { encoding: 'utf8' })
			.trim()
			.split('\n')
			.filter(Boolean).length;
	} catch {
		return 0;
	}
}

test('cancelling a live class stops the studio and every viewer, and keeps the recording for staff', async () => {
	const classId = await findClassId(app.url);
	const studio = await goLive(classId);
	const viewers = await Promise.all([audience.as('taxpayer1'), audience.as('taxpayer2')]);
	for (const viewer of viewers) {
		await viewer.goto(`${app.url}/classes/${classId}/watch`);
		await decoding(viewer);
	}
	await expect.poll(() => ffmpegChildren()).toBeGreaterThan(0);

	// Staff cancel it from the manage page, as in the browser.
	const staff = await audience.as('staff');
	await gotoHydrated(staff, `${app.url}/manage/classes/${classId}`);
	await staff.getByLabel(/取消原因/).fill('讲师突发疾病，课程取消');
	const cancelledAt = Date.now();
	await staff.getByRole('button', { name: '确认取消课程' }).click();

	// Watched side by side, so the figure below is when the last of them showed it.
	await Promise.all(
		[studio, ...viewers].map((page) =>
			expect.poll(() => statusOf(page).textContent()).toContain('本课程已取消')
		)
	);
	console.log(`cancelled live: studio and viewers told within ${Date.now() - cancelledAt} ms`);
	// The recorder's FFmpeg ends; the recording is finalized and stays for staff.
	await expect.poll(() => ffmpegChildren(), { timeout: 30_000 }).toBe(0);
	await expect
		.poll(
			async () => {
				const response = await fetch(`${app.url}/classes/${classId}/replay`, {
					headers: { cookie: await audience.cookie('staff') }
				});
				return response.status === 200 && (await response.text()).includes('<video');
			},
			{ timeout: 120_000, interval: 1000 }
		)
		.toBe(true);
	// Staff play it on the replay page (under the same CSP as every page).
	await gotoHydrated(staff, `${app.url}/classes/${classId}/replay`);
	const video = staff.locator('video');
	await playLoadedMuted(video);
	await expect
		.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime))
		.toBeGreaterThan(0);
	// Its registrants no longer have a class, nor its replay.
	const registrant = await fetch(`${app.url}/classes/${classId}/replay`, {
		redirect: 'manual',
		headers: { cookie: await audience.cookie('taxpayer1') }
	});
	expect(registrant.status).toBe(403);
}, 240_000);

test('a waitlisted viewer moves up and starts watching and asking without a reload; signing out in one tab cuts that browser', async () => {
	// 数电发票: two seats, taken; 赵小姐 is first on the waitlist.
	const classId = await findClassId(app.url, '数电发票开具与红冲操作演示');
	const waiting = await audience.as('unregistered');
	await waiting.goto(`${app.url}/classes/${classId}/watch`);
	await expect.poll(() => statusOf(waiting).textContent()).toContain('您在候补名单中');
	await expect.poll(() => waiting.getByText(/可以查看问答；报名成功后即可提问/).count()).toBe(1);
	await expect.poll(() => waiting.getByLabel('您的问题').count()).toBe(0);

	// A seated registrant gives their seat back before the start.
	const seated = await postForm(
		app.url,
		`/classes/${classId}?/cancel`,
		{},
		await audience.cookie('taxpayer2')
	);
	expect(seated.status).toBe(200);
	await expect.poll(() => statusOf(waiting).textContent()).toContain('等待讲师开始直播');
	await expect.poll(() => waiting.getByLabel('您的问题').count()).toBe(1);

	const studio = await goLive(classId);
	await decoding(waiting);
	await waiting.getByLabel('您的问题').fill('候补转正后可以提问吗？');
	await waiting.getByRole('button', { name: '提交问题' }).click();
	await expect.poll(() => waiting.getByText('问题已提交。').count()).toBe(1);

	// Staff see it in the consultation console.
	const staff = await audience.as('staff');
	await gotoHydrated(staff, `${app.url}/classes/${classId}/console`);
	await expect.poll(() => staff.getByText('候补转正后可以提问吗？').count()).toBe(1);

	// Another seated viewer, in another browser, keeps watching throughout.
	const other = await audience.as('taxpayer1');
	await other.goto(`${app.url}/classes/${classId}/watch`);
	await decoding(other);

	// Signing out in another tab of the same browser ends the watch tab's connections.
	const second = await audience.tab(waiting, 'unregistered, second tab');
	await gotoHydrated(second, `${app.url}/my`);
	await Promise.all([
		second.waitForURL(`${app.url}/`),
		second.getByRole('button', { name: '退出登录' }).click()
	]);
	await expect.poll(() => statusOf(waiting).textContent()).toContain('您没有观看本课程直播的权限');
	await expect.poll(() => waiting.getByText('登录已失效').count()).toBeGreaterThan(0);
	await decoding(other);
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');
}, 180_000);
