import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser } from '../support/browser.ts';
import { ACCOUNTS, findClassId, loginCookie, postForm } from '../support/live.ts';

/**
 * 关怀模式 in real Chromium against the production build: who gets it, how it
 * is remembered, that the server renders it (no flash of the normal theme),
 * the "my next class" home, and the polite announcement of a move up from
 * the waitlist on the watch page.
 */
vi.setConfig({ expect: { poll: { timeout: 10_000, interval: 100 } } });

let app: AppServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
	[app, browser] = await Promise.all([
		startAppServer({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' }),
		launchBrowser()
	]);
});

afterAll(async () => {
	for (const context of contexts) await context.close().catch(() => undefined);
	await browser?.close();
	await app?.stop();
});

async function newPage(cookie?: string): Promise<Page> {
	const context = await browser.newContext({ locale: 'zh-CN' });
	contexts.push(context);
	if (cookie) {
		const [name, value] = cookie.split('=') as [string, string];
		await context.addCookies([{ name, value, url: app.url }]);
	}
	const page = await context.newPage();
	page.on('pageerror', (err) => console.error('page error:', err));
	return page;
}

/** The mode the server wrote into the HTML, before any script ran. */
async function servedMode(path: string, cookie?: string): Promise<string | undefined> {
	const html = await (
		await fetch(`${app.url}${path}`, { headers: cookie ? { cookie } : {} })
	).text();
	return /<html[^>]* data-care="(\w+)"/.exec(html)?.[1];
}

const careSwitch = (page: Page) => page.getByRole('button', { name: '关怀模式' });

test('one click turns it on for a visitor; the cookie keeps it and the server renders it', async () => {
	expect(await servedMode('/')).toBe('off');
	const page = await newPage();
	await gotoHydrated(page, `${app.url}/login`);
	expect(await careSwitch(page).getAttribute('aria-pressed')).toBe('false');
	await careSwitch(page).click();
	await expect.poll(() => page.locator('html').getAttribute('data-care')).toBe('on');
	// The page stays where it was, with focus on the switch.
	expect(new URL(page.url()).pathname).toBe('/login');
	expect(await careSwitch(page).getAttribute('aria-pressed')).toBe('true');
	expect(await careSwitch(page).evaluate((el) => el === document.activeElement)).toBe(true);
	expect(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize)).toBe(
		'22px'
	);

	const cookie = (await page.context().cookies()).find((c) => c.name === 'tc_care');
	expect(cookie?.value).toBe('on');
	expect(await servedMode('/login', 'tc_care=on')).toBe('on');

	// A visitor who chose it keeps it in the account they create.
	await gotoHydrated(page, `${app.url}/signup`);
	await page.getByLabel('姓名或称呼').fill('钱先生');
	await page.getByLabel('手机号或电子邮箱').fill('13600136001');
	await page.getByLabel('密码', { exact: true }).fill('qian-secret-1');
	await page.getByLabel('确认密码').fill('qian-secret-1');
	await Promise.all([
		page.waitForURL(`${app.url}/my`),
		page.getByRole('button', { name: '注册' }).click()
	]);
	const elsewhere = await newPage();
	await gotoHydrated(elsewhere, `${app.url}/login`);
	await elsewhere.getByLabel('手机号或电子邮箱').fill('13600136001');
	await elsewhere.getByLabel(/^密码$/).fill('qian-secret-1');
	await Promise.all([
		elsewhere.waitForURL((url) => url.pathname === '/my'),
		elsewhere.getByRole('button', { name: '登录' }).click()
	]);
	expect(await elsewhere.locator('html').getAttribute('data-care')).toBe('on');
});

test('爱心通道 users have it from the start; an account keeps its own choice on every device', async () => {
	// 刘大爷 asked for 爱心通道 and never chose a mode.
	const liu = await loginCookie(app.url, ACCOUNTS.taxpayer2);
	expect(await servedMode('/my', liu)).toBe('on');
	expect(await servedMode('/my', `${liu}; tc_care=on`)).toBe('on');

	// 张会计 did not: off, until he switches it on in one browser.
	const zhang = await loginCookie(app.url, ACCOUNTS.taxpayer1);
	expect(await servedMode('/my', zhang)).toBe('off');
	const page = await newPage(zhang);
	await gotoHydrated(page, `${app.url}/my`);
	await careSwitch(page).click();
	await expect.poll(() => page.locator('html').getAttribute('data-care')).toBe('on');
	// Another browser, signed in as him, with this browser's choice the other way round.
	expect(await servedMode('/my', `${zhang}; tc_care=off`)).toBe('on');
	await careSwitch(page).click();
	await expect.poll(() => page.locator('html').getAttribute('data-care')).toBe('off');
	expect(await servedMode('/my', `${zhang}; tc_care=on`)).toBe('off');
});

test('the home page is "my next class", with one big button', async () => {
	// 刘大爷's next class is the in-person 数电发票 one (the keyboard test follows the
	// button into a live room): the button leads to where and when it is.
	const classId = await findClassId(app.url, '数电发票开具与红冲操作演示');
	const page = await newPage(await loginCookie(app.url, ACCOUNTS.taxpayer2));
	await gotoHydrated(page, app.url);
	await page.getByRole('heading', { level: 1, name: '我的下一节课' }).waitFor();
	await page.getByRole('heading', { name: '数电发票开具与红冲操作演示' }).waitFor();
	await page.getByText(/^地点：/).waitFor();
	expect(await page.getByRole('link', { name: '进入直播间' }).count()).toBe(0);
	const details = page.getByRole('link', { name: '查看详情' });
	expect(await details.getAttribute('href')).toBe(`/classes/${classId}`);
	const box = await details.boundingBox();
	expect(box!.height).toBeGreaterThanOrEqual(60);
	// The whole schedule is one link away.
	await page.getByRole('link', { name: '浏览全部课程' }).click();
	await page.waitForURL(/view=all/);
	await page.getByRole('heading', { level: 1, name: '课程安排' }).waitFor();
});

test('a waitlisted viewer hears that they moved up, without a reload', async () => {
	// 数电发票 is full: 张会计 and 刘大爷 hold the seats, 赵小姐 waits.
	const invoiceClass = await findClassId(app.url, '数电发票开具与红冲操作演示');
	const zhao = await newPage(await loginCookie(app.url, ACCOUNTS.unregistered));
	await gotoHydrated(zhao, `${app.url}/classes/${invoiceClass}/watch`);
	await zhao.locator('[data-state=waitlisted]').waitFor();
	const announcer = zhao.getByTestId('announcer');
	expect((await announcer.textContent())?.trim()).toBe('');

	const zhang = await loginCookie(app.url, ACCOUNTS.taxpayer1);
	const cancelled = await postForm(app.url, `/classes/${invoiceClass}?/cancel`, {}, zhang);
	expect(cancelled.status).toBe(200);
	await expect
		.poll(() => announcer.textContent())
		.toContain('您已从候补转为正式报名，可以观看直播了。');
	await zhao.locator('[data-state=waiting]').waitFor();
});
