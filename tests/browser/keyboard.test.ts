import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import type { QaClient } from '../../src/lib/qa/client.ts';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser } from '../support/browser.ts';
import { Keyboard } from '../support/keyboard.ts';
import { ACCOUNTS, findClassId, goLive, loginCookie, qaAs } from '../support/live.ts';
import { explainLivePage, recordPeerConnections } from '../support/live-browser.ts';

/**
 * A taxpayer who uses only the keyboard, in real Chromium against the
 * production build: no mouse event is sent to their page. Every Tab stop must
 * have an accessible name (read from the accessibility tree) and a visible
 * focus. They sign up with 爱心通道 (so 关怀模式 is on), register, enter the
 * live room from the "my next class" home, hear the class go live, use the
 * player's controls and shortcuts, ask a question, hear the answer, and open
 * the questions that arrived meanwhile.
 */
vi.setConfig({ expect: { poll: { timeout: 10_000, interval: 100 } } });

let app: AppServer;
let browser: Browser;
let classId: string;
const contexts: BrowserContext[] = [];
const qa: QaClient[] = [];

beforeAll(async () => {
	[app, browser] = await Promise.all([
		startAppServer({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' }),
		launchBrowser()
	]);
	classId = await findClassId(app.url);
});

afterAll(async () => {
	for (const client of qa) client.close();
	for (const context of contexts) await context.close().catch(() => undefined);
	await browser?.close();
	await app?.stop();
});

async function newPage(cookie?: string): Promise<Page> {
	const context = await browser.newContext({
		locale: 'zh-CN',
		viewport: { width: 1280, height: 900 }
	});
	contexts.push(context);
	await context.addInitScript(recordPeerConnections);
	if (cookie) {
		const [name, value] = cookie.split('=') as [string, string];
		await context.addCookies([{ name, value, url: app.url }]);
	}
	const page = await context.newPage();
	page.on('pageerror', (err) => console.error('page error:', err));
	return page;
}

test('sign up with 爱心通道, register, enter the live room, unmute, ask and hear the answer — by keyboard only', async () => {
	const page = await newPage();
	const keys = await Keyboard.attach(page);
	const announcer = page.getByTestId('announcer');
	const mouseEvents: string[] = [];
	await page.exposeFunction('__mouseEvent', (type: string) => mouseEvents.push(type));
	await page.addInitScript(() => {
		for (const type of ['mousedown', 'mouseup', 'click', 'pointerdown']) {
			window.addEventListener(
				type,
				(event) => {
					// Keyboard activation fires a click with no pointer position; a real mouse has one.
					if ((event as MouseEvent).detail > 0) {
						(window as unknown as { __mouseEvent: (t: string) => void }).__mouseEvent(type);
					}
				},
				true
			);
		}
	});

	// Sign up: the skip link first, then the form field by field.
	await gotoHydrated(page, `${app.url}/signup`);
	expect(await keys.tabTo('link', /^跳到主要内容$/, { max: 1 })).toMatchObject({ role: 'link' });
	await keys.press('Enter');
	await keys.tabTo('textbox', /^姓名或称呼$/, { max: 1 });
	await keys.type('孙奶奶');
	await keys.tabTo('textbox', /^手机号或电子邮箱$/);
	await keys.type('13700137001');
	await keys.tabTo('textbox', /^密码$/);
	await keys.type('sun-secret-1');
	await keys.tabTo('textbox', /^确认密码$/);
	await keys.type('sun-secret-1');
	await keys.tabTo('checkbox', /爱心通道/);
	await keys.press('Space');
	await keys.tabTo('combobox', /^优先服务类别$/);
	await keys.press('ArrowDown');
	expect(await page.locator('select[name=priorityReason]').inputValue()).toBe('ELDERLY');
	await keys.tabTo('button', /^注册$/);
	await Promise.all([page.waitForURL(`${app.url}/my`), keys.press('Enter')]);
	// 爱心通道 turns 关怀模式 on.
	await expect.poll(() => page.locator('html').getAttribute('data-care')).toBe('on');

	// Find the class and register.
	await keys.tabTo('link', /^课程安排$/, { backwards: true });
	await Promise.all([page.waitForURL(/view=all/), keys.press('Enter')]);
	await keys.tabTo('link', /^增值税留抵退税政策解读与申报实操$/);
	await Promise.all([page.waitForURL(`${app.url}/classes/${classId}`), keys.press('Enter')]);
	await keys.tabTo('button', /^立即报名$/);
	await keys.press('Enter');
	await page.getByText('报名成功！').waitFor();

	// The "my next class" home leads into the live room with one button.
	await keys.tabTo('link', /^我的下一节课$/, { backwards: true });
	await Promise.all([page.waitForURL(`${app.url}/`), keys.press('Enter')]);
	await keys.tabTo('link', /^进入直播间$/);
	await Promise.all([page.waitForURL(`${app.url}/classes/${classId}/watch`), keys.press('Enter')]);
	await page.getByRole('status').first().filter({ hasText: '等待讲师开始直播' }).waitFor();

	// The instructor goes live (their own browser, mouse allowed): the start is announced.
	const studio = await newPage(await loginCookie(app.url, ACCOUNTS.instructor));
	await goLive(studio, app.url, classId);
	await expect
		.poll(() => announcer.textContent(), { timeout: 20_000 })
		.toContain('直播开始了')
		.catch(explainLivePage(page, app.output));
	await page.locator('[data-state=playing]').waitFor().catch(explainLivePage(page, app.output));
	const video = page.locator('video');

	// Player controls: mute with the shortcut, unmute with the button, volume, quality, full screen.
	expect(await keys.tabTo('button', /^静音$/)).toMatchObject({ pressed: 'false' });
	await keys.press('m');
	await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.muted)).toBe(true);
	await expect.poll(() => announcer.textContent()).toContain('已静音');
	expect(await keys.focused()).toMatchObject({ name: '静音', pressed: 'true' });
	await keys.press('Enter');
	await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.muted)).toBe(false);
	expect(await keys.focused()).toMatchObject({ name: '静音', pressed: 'false' });
	await keys.press('ArrowDown');
	await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.volume)).toBeCloseTo(0.9);
	await keys.press('q');
	await expect.poll(() => page.getByLabel('清晰度').inputValue()).toBe('high');
	await expect.poll(() => announcer.textContent()).toContain('清晰度：高清');
	await keys.press('f');
	await expect
		.poll(() => page.evaluate(() => document.fullscreenElement?.className ?? ''))
		.toContain('frame');
	await page.getByRole('button', { name: '全屏', pressed: true }).waitFor();
	await keys.press('f');
	// Left full screen once the page heard so; focus stayed on the control it was on.
	await page.getByRole('button', { name: '全屏', pressed: false }).waitFor();
	expect(await page.evaluate(() => document.fullscreenElement)).toBeNull();
	expect(await keys.focused()).toMatchObject({ name: '静音' });
	// Picture-in-picture opens, or (a busy browser can refuse it) the refusal
	// is said and a second press opens it.
	const pipOrRefusal = async () =>
		(await page.evaluate(() => document.pictureInPictureElement?.tagName)) === 'VIDEO'
			? 'open'
			: (await announcer.textContent())?.includes('画中画未能开启')
				? 'refused'
				: 'pending';
	await keys.press('p');
	await expect.poll(pipOrRefusal).not.toBe('pending');
	if ((await pipOrRefusal()) === 'refused') {
		console.log('picture-in-picture was refused once; pressing P again');
		await keys.press('p');
		await expect
			.poll(() => page.evaluate(() => document.pictureInPictureElement?.tagName ?? ''))
			.toBe('VIDEO');
	}
	await page.getByRole('button', { name: '画中画', pressed: true }).waitFor();
	await keys.press('p');
	await expect.poll(() => page.evaluate(() => document.pictureInPictureElement)).toBeNull();
	// The shortcuts are listed on the page.
	for (const shortcut of [
		'静音 / 取消静音',
		'调高 / 调低音量',
		'全屏 / 退出全屏',
		'画中画 / 退出画中画',
		'切换清晰度'
	]) {
		await page.getByText(shortcut).waitFor();
	}

	// Ask a question; staff answer it; the answer is announced.
	await keys.tabTo('textbox', /^您的问题$/);
	const question = '孙奶奶想问：退税多久能到账？';
	await keys.type(question);
	await keys.tabTo('button', /^提交问题$/);
	await keys.press('Enter');
	await expect.poll(() => page.getByLabel('您的问题').inputValue()).toBe('');
	await page.locator('li.question').filter({ hasText: question }).waitFor();
	expect(await keys.focused()).toMatchObject({ role: 'button', name: '提交问题' });

	const staff = await qaAs(app.url, classId, await loginCookie(app.url, ACCOUNTS.staff));
	const other = await qaAs(app.url, classId, await loginCookie(app.url, ACCOUNTS.taxpayer2));
	qa.push(staff, other);
	const mine = [...staff.state.questions.values()].find((q) => q.text === question);
	expect(mine).toBeDefined();
	const answer = '一般在审核通过后 5 个工作日内到账。';
	const before = await announcer.textContent();
	expect(
		await staff.action({ type: 'answer', classId, questionId: mine!.id, text: answer })
	).toMatchObject({ ok: true });
	await expect.poll(() => announcer.textContent()).not.toBe(before);
	await expect.poll(() => announcer.textContent()).toContain(`您的问题有了回答：${answer}`);

	// In 关怀模式 new questions wait until asked for.
	const later = '刘大爷问：可以到大厅办理吗？';
	expect(await other.ask(later)).toMatchObject({ ok: true });
	await keys.tabTo('button', /^有 1 条新问题，点击查看$/);
	expect(await page.locator('li.question').filter({ hasText: later }).count()).toBe(0);
	await keys.press('Enter');
	await page.locator('li.question').filter({ hasText: later }).waitFor();
	await page.locator('li.question').filter({ hasText: question }).getByText(answer).waitFor();
	expect(await keys.focused()).toMatchObject({ role: 'list' });

	expect(mouseEvents).toEqual([]);
}, 120_000);
