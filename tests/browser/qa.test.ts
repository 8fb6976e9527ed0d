import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDb } from '../../src/lib/server/db/client.ts';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser, signIn } from '../support/browser.ts';
import { copyPgliteTemplate } from '../support/database.ts';

/**
 * Live Q&A in real Chromium against the production build: two taxpayers in two
 * browsers (张会计 and 刘大爷, both registered for the 留抵退税 class in the
 * seed) and a staff member (李敏) in the console.
 */
const PASSWORD = 'xuetang2026';
let app: AppServer;
let browsers: Browser[] = [];
const contexts: BrowserContext[] = [];
let classId = '';
let otherClassId = '';

async function as(browser: Browser, contact: string, path: string): Promise<Page> {
	const context = await browser.newContext({ locale: 'zh-CN' });
	contexts.push(context);
	// These tests follow the list as it updates: 关怀模式 (on by default for
	// 刘大爷, a 爱心通道 user) would hold it still, so this browser chose it off.
	await context.addCookies([{ name: 'tc_care', value: 'off', url: app.url }]);
	const page = await context.newPage();
	await signIn(page, app.url, contact, PASSWORD);
	await gotoHydrated(page, `${app.url}${path}`);
	return page;
}

const question = (page: Page, text: string) =>
	page.locator('li.question').filter({ has: page.getByText(text, { exact: true }) });
const consoleItem = (page: Page, text: string) =>
	page.locator('article.item').filter({ has: page.getByText(text, { exact: true }) });

async function ask(page: Page, text: string, expectAccepted = true) {
	await page.getByLabel('您的问题').fill(text);
	await page.getByRole('button', { name: '提交问题' }).click();
	if (expectAccepted) await expect.poll(() => page.getByLabel('您的问题').inputValue()).toBe('');
}

beforeAll(async () => {
	// Class ids of the seeded copy the app runs on.
	const seeded = await createDb({ PGLITE_DIR: copyPgliteTemplate(true) });
	const classes = await seeded.policyClass.findMany({ select: { id: true, title: true } });
	await seeded.$disconnect();
	classId = classes.find((c) => c.title.includes('留抵退税'))!.id;
	otherClassId = classes.find((c) => c.title.includes('汇算清缴'))!.id;
	const [server, ...launched] = await Promise.all([
		startAppServer(),
		launchBrowser(),
		launchBrowser()
	]);
	app = server;
	browsers = launched;
});

afterAll(async () => {
	for (const c of contexts) await c.close().catch(() => {});
	for (const b of browsers) await b.close();
	await app?.stop();
});

describe('live Q&A in the browser', () => {
	test('ask and everyone sees it, upvote, answer, pin; markup stays text; limits show messages', async () => {
		const [one, two] = browsers as [Browser, Browser];
		const A = await as(one, '13800138000', `/classes/${classId}/questions`);
		const B = await as(two, '13900139000', `/classes/${classId}/questions`);
		const S = await as(one, 'staff@xuetang.example', `/classes/${classId}/console`);
		for (const p of [A, B]) await p.getByText('已连接，问题实时更新').waitFor();
		await S.getByText('已连接，问题实时更新').waitFor();

		const text = '留抵退税申请需要哪些资料？';
		await ask(A, text);
		await question(A, text).waitFor();
		await question(B, text).waitFor();
		await expect.poll(() => question(B, text).textContent()).toContain('张会计');

		await question(B, text).getByRole('button', { name: /赞同/ }).click();
		await expect
			.poll(() => question(A, text).getByRole('button', { name: /赞同/ }).textContent())
			.toMatch(/1\s*$/);
		await expect
			.poll(() =>
				question(B, text).getByRole('button', { name: /赞同/ }).getAttribute('aria-pressed')
			)
			.toBe('true');

		// Staff: the question is in the queue; answer it in writing.
		const item = consoleItem(S, text);
		await item.getByRole('button', { name: '认领回答' }).click();
		await item.getByText('您已认领，正在回答').waitFor();
		await item.getByLabel('书面回答').fill('需要提交《退（抵）税申请表》。');
		await item.getByRole('button', { name: '发布回答' }).click();
		for (const p of [A, B]) {
			await question(p, text).getByText('需要提交《退（抵）税申请表》。').waitFor();
			await question(p, text).getByText('已书面回答').waitFor();
		}
		await consoleItem(S, text).getByRole('button', { name: '置顶为正在解答' }).click();
		for (const p of [A, B]) {
			await question(p, text).getByText('正在解答').waitFor();
			expect(await question(p, text).getAttribute('class')).toContain('pinned');
		}

		// Markup is shown literally and never runs.
		const script = '<script>window.__qaXss = 1</script>';
		const img = '<img src=x onerror="window.__qaXss = 2">';
		await ask(A, script);
		await ask(A, img);
		for (const p of [A, B]) {
			await question(p, script).waitFor();
			await question(p, img).waitFor();
			expect(await p.evaluate(() => (window as { __qaXss?: number }).__qaXss)).toBeUndefined();
			expect(await p.locator('li.question img').count()).toBe(0);
		}

		// That was 张会计's third question this minute: the fourth is refused, with a reason.
		await ask(A, '第四个问题', false);
		await A.getByRole('alert').filter({ hasText: '提问太频繁' }).waitFor();
		expect(await question(B, '第四个问题').count()).toBe(0);

		// Upvoting one's own question is not offered.
		expect(await question(A, text).getByRole('button', { name: /赞同/ }).isDisabled()).toBe(true);
	});

	test('pre-moderation: a question is invisible to others until staff approve it', async () => {
		const [one, two] = browsers as [Browser, Browser];
		const S = await as(one, 'staff@xuetang.example', `/classes/${classId}/console`);
		const A = await as(one, '13800138000', `/classes/${classId}/questions`);
		const B = await as(two, '13900139000', `/classes/${classId}/questions`);
		await S.getByText('已连接，问题实时更新').waitFor();
		await S.getByLabel(/先审后发/).check();
		await S.getByText('已开启提问审核').waitFor();
		await B.getByText('本课开启了提问审核').waitFor();

		const text = '我今年七十岁，能否到大厅现场办理？';
		await ask(B, text);
		await B.getByText('工作人员审核后将对所有人显示').waitFor();
		await question(B, text).getByText('待审核（仅您和工作人员可见）').waitFor();
		const pending = consoleItem(S, text);
		await pending.waitFor();
		// 刘大爷 uses the priority service: flagged in the console.
		await pending.getByText('爱心通道').waitFor();
		// Barrier: staff pin another question after B asked; once A sees the pin,
		// B's question would have reached A before it.
		const earlier = '<script>window.__qaXss = 1</script>';
		await consoleItem(S, earlier).getByRole('button', { name: '置顶为正在解答' }).click();
		await expect.poll(() => question(A, earlier).getAttribute('class')).toContain('pinned');
		expect(await question(A, text).count()).toBe(0);

		await pending.getByRole('button', { name: '审核通过' }).click();
		await question(A, text).waitFor({ timeout: 2000 });

		await consoleItem(S, text).getByRole('button', { name: '隐藏' }).click();
		await expect.poll(() => question(A, text).count()).toBe(0);
		await S.getByLabel(/先审后发/).uncheck();
		await S.getByText('已关闭提问审核').waitFor();
	});

	test('a dropped viewer gets the questions it missed, in order, once, when it reconnects', async () => {
		const [one, two] = browsers as [Browser, Browser];
		const S = await as(one, 'staff@xuetang.example', `/classes/${classId}/questions`);
		const B = await as(two, '13900139000', `/classes/${classId}/questions`);
		await B.getByText('已连接，问题实时更新').waitFor();
		await S.getByText('已连接，问题实时更新').waitFor();
		await B.getByRole('radio', { name: '最新提问' }).check();

		await B.context().setOffline(true);
		await B.getByText('连接中断，正在重新连接……').waitFor();
		const missed = ['断线期间的问题一', '断线期间的问题二', '断线期间的问题三'];
		for (const text of missed) await ask(S, text);
		await B.context().setOffline(false);
		await B.getByText('已连接，问题实时更新').waitFor({ timeout: 15_000 });
		for (const text of missed) await question(B, text).waitFor({ timeout: 2000 });
		for (const text of missed) expect(await question(B, text).count()).toBe(1);
		// Newest first: the three in reverse order of asking, on top.
		const texts = await B.locator('li.question p.text').allTextContents();
		const positions = missed.map((t) => texts.indexOf(t));
		expect(positions).toEqual([...positions].sort((x, y) => y - x));
	});

	test('non-participants cannot open the Q&A; taxpayers cannot open the console', async () => {
		const [one] = browsers as [Browser];
		const stranger = await as(one, 'zhao@xuetang.example', `/classes/${classId}/questions`);
		await stranger.getByText('只有已报名本课程的学员、本课讲师和工作人员可以参与问答。').waitFor();
		const csv = await stranger.request.get(`${app.url}/classes/${classId}/questions.csv`);
		expect(csv.status()).toBe(403);

		const taxpayer = await as(one, '13800138000', `/classes/${classId}/console`);
		await taxpayer.getByText('只有工作人员和本课讲师可以进行此操作。').waitFor();
		const replay = await taxpayer.request.get(`${app.url}/api/classes/${classId}/questions`);
		expect(replay.status()).toBe(200);
		const body = (await replay.json()) as { questions: { text: string }[] };
		expect(body.questions.map((q) => q.text)).toContain('留抵退税申请需要哪些资料？');
		// Not registered for this one.
		const other = await taxpayer.request.get(`${app.url}/api/classes/${otherClassId}/questions`);
		expect(other.status()).toBe(403);

		const staff = await as(one, 'staff@xuetang.example', `/classes/${classId}/console`);
		const staffCsv = await staff.request.get(`${app.url}/classes/${classId}/questions.csv`);
		expect(staffCsv.status()).toBe(200);
		expect(await staffCsv.text()).toContain('我今年七十岁');
	});
});
