import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { classAudience } from '../../src/lib/server/reports/figures.ts';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser } from '../support/browser.ts';
import { copyPgliteTemplate, writePglite } from '../support/database.ts';
import { ACCOUNTS, findClassId, loginCookie } from '../support/live.ts';

/**
 * Attendance in real Chromium against the production build: a registered
 * taxpayer watches the live class about 20 s, drops out, comes back for about
 * 10 s on 流畅模式 (HLS), and is asked for the survey on the player when the
 * class ends. The report counts them once, with about 30 s in one set of
 * intervals.
 */
let app: AppServer;
let browser: Browser;
let classId: string;
let dir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
	dir = copyPgliteTemplate(true);
	[app, browser] = await Promise.all([
		startAppServer({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', PGLITE_DIR: dir }),
		launchBrowser()
	]);
	classId = await findClassId(app.url);
});
afterAll(async () => {
	for (const c of contexts) await c.close().catch(() => undefined);
	await browser?.close();
	await app?.stop();
});

async function signedIn(account: keyof typeof ACCOUNTS): Promise<BrowserContext> {
	const context = await browser.newContext({ locale: 'zh-CN' });
	contexts.push(context);
	const [name, value] = (await loginCookie(app.url, ACCOUNTS[account])).split('=') as [
		string,
		string
	];
	await context.addCookies([{ name, value, url: app.url }]);
	return context;
}

const status = (page: Page) => page.getByRole('status').first();

const liveMode = (page: Page) =>
	page.evaluate(() => ({
		mode: document.querySelector('[data-testid=live-mode]')?.getAttribute('data-mode'),
		reason: document.querySelector('[data-testid=hls-reason]')?.getAttribute('data-reason')
	}));

/**
 * Waits until the live player has played `seconds` of the class `via` WebRTC
 * or HLS. An HLS player's clock starts at the stream's own time, so it counts
 * from there; a player that changed ways meanwhile (a fallback) is said.
 */
async function watches(page: Page, seconds: number, via: 'webrtc' | 'hls') {
	const time = () => page.locator('video').evaluate((v: HTMLVideoElement) => v.currentTime);
	await expect.poll(async () => (await liveMode(page)).mode).toBe(via);
	await expect.poll(time, { timeout: 20_000 }).toBeGreaterThan(0);
	const from = via === 'hls' ? await time() : 0;
	await expect
		.poll(time, { timeout: (seconds + 20) * 1000, interval: 250 })
		.toBeGreaterThanOrEqual(from + seconds);
	const { mode, reason } = await liveMode(page);
	expect(mode, `the player changed ways (${reason})`).toBe(via);
}

test('a viewer who reconnects is counted once, with about 30 s of live watching', async () => {
	const studio = await (await signedIn('instructor')).newPage();
	await studio.goto(`${app.url}/classes/${classId}/studio`);
	await expect.poll(() => status(studio).textContent(), { timeout: 15_000 }).toContain('准备就绪');
	await studio.getByRole('button', { name: '开始直播' }).click();
	await expect.poll(() => status(studio).textContent(), { timeout: 10_000 }).toContain('直播中');

	const taxpayer = await signedIn('taxpayer1');
	// While the class is live, registrants get the live room button on the schedule and in my classes.
	const around = await taxpayer.newPage();
	await around.goto(`${app.url}/`);
	await around.locator(`a[data-enter-live="${classId}"]`).first().waitFor();
	await around.goto(`${app.url}/my`);
	await around.locator(`a[data-enter-live="${classId}"]`).first().waitFor();
	await expect.poll(() => around.getByRole('complementary', { name: '课程提醒' }).count()).toBe(1);
	await around.close();

	const first = await taxpayer.newPage();
	await first.goto(`${app.url}/classes/${classId}/watch`);
	await watches(first, 20, 'webrtc');
	await first.close();

	// Back on 流畅模式: watching the HLS stream counts like watching over WebRTC.
	const second = await taxpayer.newPage();
	await gotoHydrated(second, `${app.url}/classes/${classId}/watch`);
	await second.getByRole('button', { name: '切换到流畅模式 (HTTP)' }).click();
	await watches(second, 10, 'hls');

	await studio.getByRole('button', { name: '结束直播' }).click();
	await studio.getByRole('button', { name: '确认结束' }).click();
	await expect
		.poll(() => status(second).textContent(), { timeout: 10_000 })
		.toContain('本次直播已结束');

	// Asked on the player, answered in place.
	const prompt = second.getByRole('region', { name: '课程已结束，请为本课评分' });
	await prompt.waitFor();
	for (const [legend, stars] of [
		['课程内容', 5],
		['讲师讲解', 5],
		['音视频质量', 4]
	] as const) {
		await prompt.getByRole('group', { name: legend }).getByLabel(`${stars} 星`).check();
	}
	await prompt.getByLabel('意见和建议（选填）').fill('讲解清楚，回放也很方便');
	await prompt.getByRole('button', { name: '提交评价' }).click();
	await expect.poll(() => prompt.getByText('感谢您的评价！').count()).toBe(1);

	const staff = await (await signedIn('staff')).newPage();
	await staff.goto(`${app.url}/manage/reports/${classId}`);
	const figure = (label: string) =>
		staff
			.locator('table[data-table="summary"] tr')
			.filter({ has: staff.getByRole('rowheader', { name: label, exact: true }) })
			.locator('td')
			.textContent();
	expect(await figure('报名人数')).toBe('2');
	expect(await figure('直播到课')).toBe('1');
	expect(await figure('未到课')).toBe('1');
	expect(await figure('评价份数')).toBe('1');
	const minutes = Number(await figure('人均观看（分钟）'));
	expect(minutes).toBeGreaterThanOrEqual(0.4);
	expect(minutes).toBeLessThanOrEqual(0.8);

	await app.stop();
	const { rows, audience } = await writePglite(dir, async (db) => ({
		rows: await db.liveAttendance.findMany({
			where: { classId, user: { phone: ACCOUNTS.taxpayer1 } },
			orderBy: { joinedAt: 'asc' }
		}),
		audience: await classAudience(db, classId)
	}));
	// Connections all closed, the second visit's after the first: one person, about
	// 30 s. The second visit may have joined over WebRTC before the switch; its
	// HLS connection, the last, holds its 10 s.
	expect(rows.length).toBeGreaterThanOrEqual(2);
	expect(rows.length).toBeLessThanOrEqual(3);
	expect(rows.every((r) => r.leftAt !== null)).toBe(true);
	expect(rows[1]!.joinedAt.getTime()).toBeGreaterThanOrEqual(rows[0]!.leftAt!.getTime());
	const hls = rows.at(-1)!;
	expect(hls.leftAt!.getTime() - hls.joinedAt.getTime()).toBeGreaterThanOrEqual(9_000);
	expect(audience).toHaveLength(1);
	expect(audience[0]!.liveSeconds).toBeGreaterThanOrEqual(28);
	expect(audience[0]!.liveSeconds).toBeLessThanOrEqual(45);
}, 180_000);
