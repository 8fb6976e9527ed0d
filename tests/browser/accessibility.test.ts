import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDb } from '../../src/lib/server/db/client.ts';
import type { QaClient } from '../../src/lib/qa/client.ts';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { axeProblems, careSizeProblems, reflowProblems } from '../support/axe.ts';
import { gotoHydrated, launchBrowser } from '../support/browser.ts';
import { chooseCareMode } from '../support/care.ts';
import { copyPgliteTemplate } from '../support/database.ts';
import { ACCOUNTS, goLive, loginCookie, qaAs } from '../support/live.ts';
import { explainLivePage } from '../support/live-browser.ts';
import { seedReplay } from '../support/replay.ts';

/**
 * WCAG 2.2 AA checked in real Chromium against the production build, on every
 * page below, in normal mode and in 关怀模式, in zh-CN and in en:
 * - axe-core finds nothing serious or critical (in 关怀模式 also 7:1 contrast);
 * - in 关怀模式, text is at least 20 px and every control at least 44 × 44 px;
 * - the page reflows at 320 CSS px and at 640 (1280 px at 200% zoom).
 * The watch page is checked during a live class (the instructor publishing
 * with fake devices), the replay page with a READY recording.
 */
type Account = keyof typeof ACCOUNTS | null;
type ClassIds = { live: string; past: string; studio: string };
type CheckedPage = {
	name: string;
	account: Account;
	path: (ids: ClassIds) => string;
	/** Waits until the page shows what it is for (language-neutral). */
	ready?: (page: Page) => Promise<unknown>;
};

const playing = (page: Page) =>
	page
		.locator('[data-state=playing]')
		.waitFor()
		.catch(explainLivePage(page, () => app.output()));
const qaJoined = (page: Page) => page.locator('ol.list li.question').first().waitFor();
const replayLoaded = async (page: Page) => {
	await page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 1);
	await page.locator('button[data-at]').waitFor();
};
const studioReady = (page: Page) => page.locator('button.go:not([disabled])').waitFor();
const consoleJoined = (page: Page) => page.locator('.console .status:not(.offline)').waitFor();

/** Every page checked: one line each. */
const PAGES: CheckedPage[] = [
	{ name: 'schedule', account: null, path: () => '/' },
	{ name: 'home, signed in', account: 'taxpayer1', path: () => '/' },
	{ name: 'class page', account: 'taxpayer1', path: (ids) => `/classes/${ids.live}` },
	{ name: 'sign-up', account: null, path: () => '/signup' },
	{ name: 'login', account: null, path: () => '/login' },
	{ name: 'my classes', account: 'taxpayer1', path: () => '/my' },
	{
		name: 'watch (live)',
		account: 'taxpayer1',
		path: (ids) => `/classes/${ids.live}/watch`,
		ready: async (page) => Promise.all([playing(page), qaJoined(page)])
	},
	{
		name: 'replay',
		account: 'taxpayer1',
		path: (ids) => `/classes/${ids.past}/replay`,
		ready: replayLoaded
	},
	{
		name: 'studio',
		account: 'instructor',
		path: (ids) => `/classes/${ids.studio}/studio`,
		ready: studioReady
	},
	{
		name: 'staff console',
		account: 'staff',
		path: (ids) => `/classes/${ids.live}/console`,
		ready: consoleJoined
	},
	{ name: 'manage class', account: 'staff', path: (ids) => `/manage/classes/${ids.live}` },
	{
		name: 'Q&A page',
		account: 'taxpayer1',
		path: (ids) => `/classes/${ids.live}/questions`,
		ready: qaJoined
	},
	{ name: 'account settings', account: 'taxpayer1', path: () => '/account' },
	{ name: 'manage', account: 'staff', path: () => '/manage' },
	{ name: 'new class', account: 'instructor', path: () => '/manage/classes/new' },
	{
		name: 'registrants',
		account: 'staff',
		path: (ids) => `/manage/classes/${ids.live}/registrants`
	},
	{ name: 'admin users', account: 'admin', path: () => '/admin/users' },
	{ name: 'survey', account: 'taxpayer1', path: (ids) => `/classes/${ids.past}/survey` },
	{
		name: 'class materials',
		account: 'staff',
		path: (ids) => `/manage/classes/${ids.live}/materials`
	},
	{
		name: 'reports',
		account: 'staff',
		path: () => '/manage/reports',
		ready: (page) => page.locator('[data-chart][data-rendered]').first().waitFor()
	},
	{
		name: 'class report',
		account: 'staff',
		path: (ids) => `/manage/reports/${ids.past}`,
		ready: (page) => page.locator('[data-chart][data-rendered]').first().waitFor()
	},
	{ name: 'email outbox', account: 'staff', path: () => '/manage/mail' },
	{ name: 'operations', account: 'staff', path: () => '/manage/operations' },
	{ name: 'not found', account: null, path: () => '/no-such-page' }
];

const LOCALES = ['zh-CN', 'en'] as const;
const MODES = [
	{ name: 'normal mode', care: false },
	{ name: '关怀模式', care: true }
] as const;

let app: AppServer;
let browser: Browser;
let ids: ClassIds;
let recordingsDir: string;
const cookies = new Map<Account, string>();
const pages = new Map<Account, Page>();
const contexts = new Map<Account, BrowserContext>();
const qa: QaClient[] = [];

beforeAll(async () => {
	const dbDir = copyPgliteTemplate(true);
	recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'a11y-recordings-'));
	const db = await createDb({ PGLITE_DIR: dbDir, DATABASE_URL: '' });
	const classes = await db.policyClass.findMany({ select: { id: true, title: true } });
	const id = (part: string) => classes.find((c) => c.title.includes(part))!.id;
	ids = { live: id('留抵退税'), past: id('专项附加扣除'), studio: id('研发费用') };
	// The replay's question list: one answered question, asked two seconds in.
	const zhang = await db.user.findFirstOrThrow({ where: { phone: ACCOUNTS.taxpayer1 } });
	await db.question.create({
		data: {
			classId: ids.past,
			authorId: zhang.id,
			text: '专项附加扣除可以在年度汇算时补填吗？',
			status: 'VISIBLE',
			version: 1,
			answerText: '可以，在汇算清缴期内补充填报。',
			answeredAt: new Date(),
			createdAt: new Date(Date.now() + 2000)
		}
	});
	await db.$disconnect();
	await seedReplay(dbDir, recordingsDir, ids.past);

	[app, browser] = await Promise.all([
		startAppServer({
			PGLITE_DIR: dbDir,
			RECORDINGS_DIR: recordingsDir,
			MEDIA_LISTEN_IP: '127.0.0.1',
			MEDIA_WORKERS: '1'
		}),
		launchBrowser()
	]);
	for (const account of ['taxpayer1', 'taxpayer2', 'instructor', 'staff', 'admin'] as const) {
		cookies.set(account, await loginCookie(app.url, ACCOUNTS[account]));
	}
	for (const account of [null, 'taxpayer1', 'instructor', 'staff', 'admin'] as const) {
		const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
		contexts.set(account, context);
		const cookie = cookies.get(account);
		if (cookie) {
			const [name, value] = cookie.split('=') as [string, string];
			await context.addCookies([{ name, value, url: app.url }]);
		}
		const page = await context.newPage();
		page.on('pageerror', (err) => console.error(`[${account ?? 'visitor'}] page error:`, err));
		pages.set(account, page);
	}

	// A live class with questions in every state the pages show.
	await goLive(pages.get('instructor')!, app.url, ids.live);
	const [asker, mine, staff] = await Promise.all(
		(['taxpayer2', 'taxpayer1', 'staff'] as const).map((a) =>
			qaAs(app.url, ids.live, cookies.get(a)!)
		)
	);
	qa.push(asker!, mine!, staff!);
	const answered = await asker!.ask('留抵退税的申请期限是什么时候？');
	const pinned = await asker!.ask('小规模纳税人可以申请吗？');
	await mine!.ask('需要准备哪些资料？', true);
	if (!answered.ok || !pinned.ok || !answered.question || !pinned.question) {
		throw new Error('could not ask the sample questions');
	}
	const classId = ids.live;
	await staff!.action({
		type: 'answer',
		classId,
		questionId: answered.question.id,
		text: '每月申报期内提交。'
	});
	await staff!.action({ type: 'pin', classId, questionId: pinned.question.id });
	// The instructor's studio stays live for the watch page; the studio check uses another class.
	pages.set('instructor', await contexts.get('instructor')!.newPage());
});

afterAll(async () => {
	for (const client of qa) client.close();
	for (const context of contexts.values()) await context.close().catch(() => undefined);
	await browser?.close();
	await app?.stop();
	fs.rmSync(recordingsDir, { recursive: true, force: true });
});

/** Puts the page's browser into this language and mode (the account's choice when signed in). */
async function prepare(account: Account, locale: string, care: boolean) {
	const page = pages.get(account)!;
	await page.context().addCookies([
		{ name: 'PARAGLIDE_LOCALE', value: locale, url: app.url },
		{ name: 'tc_care', value: care ? 'on' : 'off', url: app.url }
	]);
	const cookie = cookies.get(account);
	if (cookie) await chooseCareMode(app.url, cookie, care);
	return page;
}

for (const locale of LOCALES) {
	for (const mode of MODES) {
		describe(`${locale} · ${mode.name}`, () => {
			test.each(PAGES)('$name', async (checked) => {
				const page = await prepare(checked.account, locale, mode.care);
				await gotoHydrated(page, `${app.url}${checked.path(ids)}`);
				await checked.ready?.(page);
				expect(await page.locator('html').getAttribute('lang')).toBe(locale);
				expect(await page.locator('html').getAttribute('data-care')).toBe(mode.care ? 'on' : 'off');

				const problems = {
					axe: await axeProblems(page, mode.care),
					sizes: mode.care ? await careSizeProblems(page) : [],
					reflow320: await reflowProblems(page, 320),
					reflow640: await reflowProblems(page, 640)
				};
				expect(problems).toEqual({ axe: [], sizes: [], reflow320: [], reflow640: [] });
			});
		});
	}
}
