import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { launchBrowser } from '../support/browser.ts';
import { copyPgliteTemplate, writePglite } from '../support/database.ts';
import { ACCOUNTS, loginCookie } from '../support/live.ts';
import {
	REPORT_COMMENT,
	REPORT_EXPECTED as E,
	REPORT_FORMULA_COMMENT,
	REPORT_TITLE,
	seedReportClass
} from '../support/report-seed.ts';

/**
 * The reports through the production build, for a class seeded with known
 * attendance, questions and ratings: the page and its CSV show exactly the
 * expected figures, the charts render in Chromium with their data points,
 * and Chinese text survives the CSV and the XLSX.
 */
let app: AppServer;
let browser: Browser;
let classId: string;
let cookie: string;
let page: Page;
const violations: string[] = [];

beforeAll(async () => {
	const dir = copyPgliteTemplate(true);
	classId = (await writePglite(dir, (db) => seedReportClass(db))).cls.id;
	[app, browser] = await Promise.all([startAppServer({ PGLITE_DIR: dir }), launchBrowser()]);
	cookie = await loginCookie(app.url, ACCOUNTS.staff);
	const context = await browser.newContext({ locale: 'zh-CN' });
	const [name, value] = cookie.split('=') as [string, string];
	await context.addCookies([{ name, value, url: app.url }]);
	page = await context.newPage();
	page.on('console', (msg) => {
		if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
	});
});
afterAll(async () => {
	await browser?.close();
	await app?.stop();
});

/** A CSV download as a spreadsheet reads it: a UTF-8 BOM, then rows of cells (no quoted commas here). */
async function csvOf(path: string): Promise<string[][]> {
	const bytes = new Uint8Array(await (await get(path)).arrayBuffer());
	expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
	return new TextDecoder('utf-8')
		.decode(bytes)
		.split('\r\n')
		.filter(Boolean)
		.map((line) => line.split(','));
}

async function get(path: string) {
	const response = await fetch(`${app.url}${path}`, { headers: { cookie } });
	expect(response.status).toBe(200);
	return response;
}

/** The table on the page, as text cells (header row first). */
function tableOnPage(key: string): Promise<string[][]> {
	return page
		.locator(`table[data-table="${key}"] tr`)
		.evaluateAll((rows) =>
			rows.map((row) => [...row.children].map((cell) => cell.textContent?.trim() ?? ''))
		);
}

async function chartLabel(name: string): Promise<string> {
	const chart = page.locator(`[data-chart="${name}"][data-rendered="true"]`);
	await chart.waitFor();
	expect(await chart.locator('svg').count()).toBe(1);
	return (await chart.getAttribute('aria-label')) ?? '';
}

const expectedSummary: [string, number][] = [
	['报名人数', E.registered],
	['直播到课', E.attendedLive],
	['观看回放', E.watchedReplay],
	['未到课', E.noShows],
	['到课率（%）', E.attendanceRate],
	['人均观看（分钟）', E.avgMinutes],
	['观看时长中位数（分钟）', E.medianMinutes],
	['最高同时在线', E.peakViewers],
	['学习总时长（小时）', E.learnerHours],
	['提问数', E.questionsAsked],
	['已答复', E.questionsAnswered],
	['评价份数', E.responses],
	['课程内容（平均分）', E.content],
	['讲师讲解（平均分）', E.instructor],
	['音视频质量（平均分）', E.avQuality],
	['满意度（平均分）', E.overall]
];

describe('reports', () => {
	test('the class report shows the exact figures on the page and in its CSV', async () => {
		await page.goto(`${app.url}/manage/reports/${classId}`);
		await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
		const wanted = expectedSummary.map(([label, value]) => [label, String(value)]);
		expect((await tableOnPage('summary')).slice(1)).toEqual(wanted);

		const csv = await csvOf(`/manage/reports/${classId}/download?table=summary`);
		expect(csv).toEqual([['指标', '数值'], ...wanted]);

		const distribution = await csvOf(`/manage/reports/${classId}/download?table=distribution`);
		expect(distribution.map((r) => r[1])).toEqual([
			'课程内容',
			...[...E.distributionContent].reverse().map(String)
		]);
	});

	test('the charts render in Chromium with their data points', async () => {
		const viewers = await chartLabel('viewers');
		// ECharts describes each series and its points in the chart's aria-label.
		// Minute by minute: two viewers from the start, one at 10:10.
		expect(viewers).toContain('在线人数的折线图，其数据是——0，2，1，2，2，2');
		expect(viewers).toContain('9，2，10，1，11，1，12，2');
		// The question asked at minute 5 sits on the line at 2 viewers.
		expect(viewers).toContain('提问的散点图');
		expect(viewers).toContain('留抵退税的申请条件是什么？的数据是5，2');
		const distribution = await chartLabel('distribution');
		for (const name of ['课程内容', '讲师讲解', '音视频质量']) expect(distribution).toContain(name);
		expect(distribution).toContain('5 星');

		await page.goto(`${app.url}/manage/reports?from=2025-03&to=2025-03`);
		await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
		const attendance = await chartLabel('attendance');
		expect(attendance).toContain(REPORT_TITLE);
		expect(attendance).toContain(`${E.registered}`);
		expect(attendance).toContain(`${E.attendedLive}`);
		const bars = await page
			.locator('[data-chart="attendance"] svg path')
			.evaluateAll(
				(paths) =>
					paths.filter((p) => ['#b91c1c', '#9ca3af'].includes(p.getAttribute('fill') ?? '')).length
			);
		// One bar per series for the class, plus the two legend marks.
		expect(bars).toBe(4);
		expect(violations).toEqual([]);
	});

	test('the cross-class tables show the same figures as their CSV', async () => {
		const month = [
			'2025-03',
			1,
			E.registered,
			E.attendedLive,
			E.attendanceRate,
			E.learnerHours,
			E.overall,
			E.responses,
			E.priorityServed
		].map(String);
		expect((await tableOnPage('by-month')).slice(1)).toEqual([month]);
		const csv = await csvOf('/manage/reports/download?from=2025-03&to=2025-03&table=by-month');
		expect(csv.slice(1)).toEqual([month]);
		expect(csv[0]![0]).toBe('月份');
		const topics = await csvOf('/manage/reports/download?from=2025-03&to=2025-03&table=by-topic');
		expect(topics.slice(1).map((r) => r[0])).toEqual(['留抵退税', '增值税']);
	});

	test('Chinese text survives the CSV and the XLSX round trip', async () => {
		const comments = await (await get(`/manage/reports/${classId}/download?table=comments`)).text();
		expect(comments).toContain(REPORT_COMMENT);
		expect(comments).toContain(`"'=HYPERLINK(""http://evil.example"",""点我"")"`);

		const response = await get(`/manage/reports/${classId}/download?format=xlsx`);
		expect(response.headers.get('content-disposition')).toContain(
			`filename*=UTF-8''${encodeURIComponent(`课程报表：${REPORT_TITLE}.xlsx`)}`
		);
		const workbook = new ExcelJS.Workbook();
		await workbook.xlsx.load(await response.arrayBuffer());
		expect(workbook.worksheets.map((w) => w.name)).toEqual([
			'概况',
			'评分分布',
			'学员意见',
			'在线人数（每分钟）'
		]);
		const texts = workbook.getWorksheet('学员意见')!.getColumn(5).values;
		expect(texts).toContain(REPORT_COMMENT);
		expect(texts).toContain(REPORT_FORMULA_COMMENT);
		expect(workbook.getWorksheet('概况')!.getCell('B2').value).toBe(E.registered);

		const overview = new ExcelJS.Workbook();
		await overview.xlsx.load(
			await (
				await get('/manage/reports/download?from=2025-03&to=2025-03&format=xlsx')
			).arrayBuffer()
		);
		const classes = overview.getWorksheet('各课程')!;
		expect(classes.getCell('A2').value).toBe(REPORT_TITLE);
		expect(classes.getCell('C2').value).toBe('王丽华');
	});
});
