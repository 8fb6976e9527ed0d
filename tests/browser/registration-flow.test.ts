import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser, signIn } from '../support/browser.ts';

/** Taxpayer and instructor journeys through the real build in real Chromium. */
let app: AppServer;
let browser: Browser;

beforeAll(async () => {
	[app, browser] = await Promise.all([startAppServer(), launchBrowser()]);
});

afterAll(async () => {
	await browser?.close();
	await app?.stop();
});

test('a taxpayer signs up, registers for a class, sees it in my classes and cancels', async () => {
	const context = await browser.newContext({ locale: 'zh-CN' });
	const page = await context.newPage();
	await gotoHydrated(page, `${app.url}/signup`);
	await page.getByLabel('姓名或称呼').fill('黄会计');
	await page.getByLabel('手机号或电子邮箱').fill('138 0013 8111');
	await page.getByLabel('密码', { exact: true }).fill('huang-secret-1');
	await page.getByLabel('确认密码').fill('huang-secret-1');
	await page.getByLabel('企业名称').fill('福州测试贸易有限公司');
	await page.getByLabel('统一社会信用代码').fill('91350100m000100y43');
	await Promise.all([
		page.waitForURL(`${app.url}/my`),
		page.getByRole('button', { name: '注册' }).click()
	]);

	await gotoHydrated(page, app.url);
	await page.getByRole('searchbox', { name: '关键词' }).fill('留抵退税');
	await page.getByRole('button', { name: '筛选' }).click();
	await page.waitForURL(/q=/);
	const cards = page.locator('article.class-card');
	await expect.poll(() => cards.count()).toBe(1);
	await cards.getByRole('link').first().click();
	await page.waitForURL(/\/classes\/[0-9a-f-]{36}$/);
	const classUrl = page.url();
	await expect
		.poll(() => page.locator('h1').textContent())
		.toBe('增值税留抵退税政策解读与申报实操');

	await page.getByRole('button', { name: '立即报名' }).click();
	await expect.poll(() => page.getByText('报名成功！').count()).toBe(1);
	await expect.poll(() => page.getByText('您已报名本课程。').count()).toBe(1);

	await page.goto(`${app.url}/my`);
	await expect
		.poll(() => page.getByRole('link', { name: '增值税留抵退税政策解读与申报实操' }).count())
		.toBeGreaterThan(0);

	await gotoHydrated(page, classUrl);
	await page.getByRole('button', { name: '取消报名' }).click();
	await expect.poll(() => page.getByText('已取消报名。').count()).toBe(1);
	await page.goto(`${app.url}/my`);
	await expect
		.poll(() => page.getByRole('link', { name: '增值税留抵退税政策解读与申报实操' }).count())
		.toBe(0);
	await context.close();
});

test('a full class puts the next taxpayer on the waitlist', async () => {
	const context = await browser.newContext({ locale: 'zh-CN' });
	const page = await context.newPage();
	// zhao@ is already waitlisted for the full in-person class in the demo data.
	await signIn(page, app.url, '13800138000', 'xuetang2026');
	await gotoHydrated(page, `${app.url}/?q=${encodeURIComponent('数电发票')}`);
	await page.locator('article.class-card').getByRole('link').first().click();
	await expect.poll(() => page.getByText('您已报名本课程。').count()).toBe(1);
	await page.getByRole('button', { name: '取消报名' }).click();
	await expect.poll(() => page.getByText('已取消报名。').count()).toBe(1);
	await context.close();

	const zhao = await browser.newContext({ locale: 'zh-CN' });
	const zhaoPage = await zhao.newPage();
	await signIn(zhaoPage, app.url, 'zhao@xuetang.example', 'xuetang2026');
	await gotoHydrated(zhaoPage, `${app.url}/?q=${encodeURIComponent('数电发票')}`);
	await zhaoPage.locator('article.class-card').getByRole('link').first().click();
	// The seat freed above went to the head of the waitlist.
	await expect.poll(() => zhaoPage.getByText('您已报名本课程。').count()).toBe(1);
	await zhao.close();
});

test('an instructor creates a class and a taxpayer sees it on the schedule', async () => {
	const instructor = await browser.newContext({ locale: 'zh-CN' });
	const page = await instructor.newPage();
	await signIn(page, app.url, 'wang.lihua@xuetang.example', 'xuetang2026');
	await gotoHydrated(page, `${app.url}/manage/classes/new`);
	const title = '房产交易税费政策直播答疑';
	await page.getByLabel('课程标题').fill(title);
	await page.getByLabel('课程简介').fill('二手房交易增值税、个人所得税和契税的计算与申报。');
	await page.getByLabel('主题标签').fill('契税，房产交易');
	const start = new Date(Date.now() + 3 * 24 * 3600_000 + 8 * 3600_000);
	const day = start.toISOString().slice(0, 10);
	await page.getByLabel('开课时间（北京时间）').fill(`${day}T15:00`);
	await page.getByLabel('时长（分钟）').fill('60');
	await page.getByLabel('授课形式').selectOption('ONLINE');
	await page.getByLabel('名额', { exact: true }).fill('120');
	await page
		.getByLabel('报名开始（北京时间）')
		.fill(new Date(Date.now() + 8 * 3600_000 - 3600_000).toISOString().slice(0, 16));
	await page.getByLabel('报名截止（北京时间）').fill(`${day}T14:00`);
	await Promise.all([
		page.waitForURL(/\/classes\/[0-9a-f-]{36}$/),
		page.getByRole('button', { name: '创建课程' }).click()
	]);
	// Entered as China Standard Time, shown as 15:00 whatever the server's zone.
	await expect.poll(() => page.locator('time').first().textContent()).toContain('15:00');

	// Editing saves the title and the seats together.
	const classId = /\/classes\/([0-9a-f-]{36})$/.exec(page.url())![1];
	await gotoHydrated(page, `${app.url}/manage/classes/${classId}`);
	await page.getByLabel('课程标题').fill(`${title}（加场）`);
	await page.getByLabel('名额', { exact: true }).fill('150');
	await page.getByRole('button', { name: '保存修改' }).click();
	await page.getByText('课程已更新。').waitFor();
	await gotoHydrated(page, `${app.url}/manage/classes/${classId}`);
	await expect.poll(() => page.getByLabel('课程标题').inputValue()).toBe(`${title}（加场）`);
	await expect.poll(() => page.getByLabel('名额', { exact: true }).inputValue()).toBe('150');
	await page.getByLabel('课程标题').fill(title);
	await page.getByRole('button', { name: '保存修改' }).click();
	await page.getByText('课程已更新。').waitFor();
	await instructor.close();

	const taxpayer = await browser.newContext({ locale: 'zh-CN' });
	const taxpayerPage = await taxpayer.newPage();
	await signIn(taxpayerPage, app.url, '13900139000', 'xuetang2026');
	await taxpayerPage.goto(`${app.url}/?topic=${encodeURIComponent('契税')}`);
	await expect.poll(() => taxpayerPage.getByRole('link', { name: title }).count()).toBe(1);
	await taxpayer.close();
});

test('forms keep what was typed and explain bad input in the chosen language', async () => {
	const context = await browser.newContext();
	const page = await context.newPage();
	await gotoHydrated(page, `${app.url}/signup`);
	await page.getByLabel('姓名或称呼').fill('钱女士');
	await page.getByLabel('手机号或电子邮箱').fill('12345');
	await page.getByLabel('密码', { exact: true }).fill('qian-secret-1');
	await page.getByLabel('确认密码').fill('qian-secret-2');
	await page.getByLabel('企业名称').fill('钱氏商行');
	await page.getByLabel('统一社会信用代码').fill('91350100M000100Y44');
	await page.getByRole('button', { name: '注册' }).click();

	await expect
		.poll(() => page.getByRole('alert').first().textContent())
		.toContain('提交的信息有误');
	await expect.poll(() => page.getByText('手机号格式不正确').count()).toBe(1);
	await expect.poll(() => page.getByText('两次输入的密码不一致。').count()).toBe(1);
	await expect.poll(() => page.getByText('统一社会信用代码校验位不正确').count()).toBe(1);
	expect(await page.getByLabel('姓名或称呼').inputValue()).toBe('钱女士');
	expect(await page.getByLabel('企业名称').inputValue()).toBe('钱氏商行');
	expect(await page.getByLabel('统一社会信用代码').inputValue()).toBe('91350100M000100Y44');
	expect(await page.getByLabel('手机号或电子邮箱').getAttribute('aria-invalid')).toBe('true');

	// The same errors in English after switching language, without JavaScript's help.
	await Promise.all([
		page.waitForFunction(() => document.documentElement.lang === 'en'),
		page.getByRole('button', { name: 'English' }).click()
	]);
	await page.getByLabel('Name', { exact: true }).fill('Ms Qian');
	await page.getByLabel('Mobile number or email').fill('not-an-email');
	await page.getByLabel('Password', { exact: true }).fill('qian-secret-1');
	await page.getByLabel('Confirm password').fill('qian-secret-1');
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect.poll(() => page.getByText('This email address is not valid.').count()).toBe(1);
	expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Ms Qian');
	expect(await page.locator('html').getAttribute('lang')).toBe('en');
	await context.close();
});

test('changing the password explains a mismatch, then signs out the other browsers', async () => {
	const here = await browser.newContext({ locale: 'zh-CN' });
	const elsewhere = await browser.newContext({ locale: 'zh-CN' });
	const page = await here.newPage();
	const other = await elsewhere.newPage();
	// zhao@ is not used by the tests after this one.
	await signIn(page, app.url, 'zhao@xuetang.example', 'xuetang2026');
	await signIn(other, app.url, 'zhao@xuetang.example', 'xuetang2026');

	await gotoHydrated(page, `${app.url}/account`);
	await page.getByLabel('当前密码').fill('xuetang2026');
	await page.getByLabel('新密码').fill('zhao-new-secret-1');
	await page.getByLabel('确认密码').fill('zhao-new-secret-2');
	await page.getByRole('button', { name: '修改密码' }).click();
	await page.getByText('两次输入的密码不一致。').waitFor();

	await page.getByLabel('当前密码').fill('xuetang2026');
	await page.getByLabel('新密码').fill('zhao-new-secret-1');
	await page.getByLabel('确认密码').fill('zhao-new-secret-1');
	await page.getByRole('button', { name: '修改密码' }).click();
	await page.getByText('密码已修改，其他设备上的登录已退出。').waitFor();

	await other.goto(`${app.url}/account`);
	expect(new URL(other.url()).pathname).toBe('/login');
	await page.goto(`${app.url}/account`);
	expect(new URL(page.url()).pathname).toBe('/account');
	await here.close();
	await elsewhere.close();
});
