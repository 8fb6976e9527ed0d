import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { launchBrowser } from '../support/browser.ts';
import { copyPgliteTemplate, writePglite } from '../support/database.ts';
import { EXECUTABLE, makePdf, pdfOfSize } from '../support/files.ts';
import { ACCOUNTS, findClassId, loginCookie } from '../support/live.ts';

/**
 * Class materials through the production build: uploads as staff post them
 * (plain form posts, and the page in Chromium), downloads as each kind of
 * visitor gets them, and the PDF preview under the site's CSP.
 */
let app: AppServer;
let browser: Browser;
let classId: string;
let materialsDir: string;
let pgliteDir: string;
const cookies: Record<string, string> = {};
const MAX_BYTES = 1024 * 1024;

beforeAll(async () => {
	materialsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-materials-http-'));
	pgliteDir = copyPgliteTemplate(true);
	[app, browser] = await Promise.all([
		startAppServer({ PGLITE_DIR: pgliteDir, MATERIALS_DIR: materialsDir, MATERIALS_MAX_MB: '1' }),
		launchBrowser()
	]);
	classId = await findClassId(app.url);
	for (const who of ['staff', 'taxpayer1', 'unregistered'] as const) {
		cookies[who] = await loginCookie(app.url, ACCOUNTS[who]);
	}
});
afterAll(async () => {
	await browser?.close();
	await app?.stop();
	fs.rmSync(materialsDir, { recursive: true, force: true });
});

/** A form post without scripts: the answer is the page, with its message. */
async function upload(bytes: Buffer, name: string) {
	const body = new FormData();
	body.set('file', new File([new Uint8Array(bytes)], name));
	const response = await fetch(`${app.url}/manage/classes/${classId}/materials?/upload`, {
		method: 'POST',
		headers: { cookie: cookies.staff!, origin: app.url, accept: 'text/html' },
		body
	});
	return { status: response.status, html: await response.text() };
}

/** As a browser following a download link asks for it. */
function download(id: string, cookie?: string) {
	return fetch(`${app.url}/materials/${id}`, {
		redirect: 'manual',
		headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) }
	});
}

const storedFiles = () =>
	(fs.readdirSync(materialsDir, { recursive: true }) as string[]).filter((p) =>
		fs.statSync(path.join(materialsDir, p)).isFile()
	);

/** Sends the start of a multipart upload, then drops the connection. */
function interruptedUpload(): Promise<void> {
	return new Promise((resolve) => {
		const boundary = 'tc-interrupted';
		const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="中断.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
		const request = http.request(`${app.url}/manage/classes/${classId}/materials?/upload`, {
			method: 'POST',
			headers: {
				cookie: cookies.staff!,
				origin: app.url,
				'content-type': `multipart/form-data; boundary=${boundary}`,
				'content-length': String(600 * 1024)
			}
		});
		request.on('error', () => resolve());
		request.on('close', () => resolve());
		request.write(head);
		request.write(makePdf('partial'));
		request.write(Buffer.alloc(100 * 1024, 0x20), () => request.destroy());
	});
}

describe('materials', () => {
	let pdfId = '';

	test('a registrant downloads; others are refused until staff make the file public', async () => {
		const pdf = makePdf('VAT refund handout');
		const uploaded = await upload(pdf, '留抵退税讲义.pdf');
		expect(uploaded.status).toBe(200);
		expect(uploaded.html).toContain('已上传：留抵退税讲义.pdf');
		pdfId = /\/materials\/([0-9a-f-]{36})/.exec(uploaded.html)![1]!;

		const got = await download(pdfId, cookies.taxpayer1);
		expect(got.status).toBe(200);
		expect(got.headers.get('content-type')).toBe('application/pdf');
		expect(got.headers.get('content-disposition')).toContain(
			`filename*=UTF-8''${encodeURIComponent('留抵退税讲义.pdf')}`
		);
		expect(Buffer.from(await got.arrayBuffer())).toEqual(pdf);

		const refused = await download(pdfId, cookies.unregistered);
		expect(refused.status).toBe(403);
		expect(await refused.text()).toContain('此课件仅向报名学员开放');
		expect((await download(pdfId)).status).toBe(303);

		const published = await fetch(`${app.url}/manage/classes/${classId}/materials?/visibility`, {
			method: 'POST',
			headers: {
				cookie: cookies.staff!,
				origin: app.url,
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: new URLSearchParams({ materialId: pdfId, visibility: 'PUBLIC' })
		});
		expect(published.status).toBe(200);
		expect((await download(pdfId, cookies.unregistered)).status).toBe(200);
		expect((await download(pdfId)).status).toBe(200);
	});

	test('a renamed executable, an oversize file and an interrupted upload each leave nothing', async () => {
		const before = storedFiles();
		const executable = await upload(EXECUTABLE, '讲义.pdf');
		expect(executable.status).toBe(400);
		expect(executable.html).toContain('不支持此文件类型');

		const oversize = await upload(pdfOfSize(MAX_BYTES + 1), '讲义（大）.pdf');
		expect(oversize.status).toBe(413);
		expect(oversize.html).toContain('文件太大：单个课件不能超过 1.0 MB。');

		await interruptedUpload();
		// The server answers the next request after handling the broken one.
		const listing = await fetch(`${app.url}/manage/classes/${classId}/materials`, {
			headers: { cookie: cookies.staff! }
		});
		const html = await listing.text();
		expect(html).toContain('已上传的课件（1）');
		expect(storedFiles()).toEqual(before);
	});

	test('the PDF is previewed in the page under the CSP, and the upload form checks the size first', async () => {
		const violations: string[] = [];
		const watch = (page: Page) =>
			page.on('console', (msg) => {
				if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
			});
		const context = await browser.newContext({ locale: 'zh-CN' });
		const [name, value] = cookies.taxpayer1!.split('=') as [string, string];
		await context.addCookies([{ name, value, url: app.url }]);
		const page = await context.newPage();
		watch(page);
		await page.goto(`${app.url}/classes/${classId}`);
		await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
		const section = page.getByRole('region', { name: '课件' });
		await section.getByRole('button', { name: /在线预览/ }).click();
		await page.locator('canvas[data-rendered-page="1"]').waitFor();
		await expect.poll(() => page.getByText('第 1 / 1 页').count()).toBe(1);
		const inked = await page.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
			const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
			let dark = 0;
			for (let i = 0; i < data.length; i += 4) if (data[i]! < 128) dark++;
			return dark;
		});
		expect(inked).toBeGreaterThan(0);
		await context.close();

		const staff = await browser.newContext({ locale: 'zh-CN' });
		const [sName, sValue] = cookies.staff!.split('=') as [string, string];
		await staff.addCookies([{ name: sName, value: sValue, url: app.url }]);
		const manage = await staff.newPage();
		watch(manage);
		await manage.goto(`${app.url}/manage/classes/${classId}/materials`);
		await manage.locator('html[data-hydrated]').waitFor({ state: 'attached' });
		await manage.getByLabel('选择文件').setInputFiles({
			name: '太大的讲义.pdf',
			mimeType: 'application/pdf',
			buffer: pdfOfSize(2 * MAX_BYTES)
		});
		await manage.getByRole('button', { name: '上传' }).click();
		await expect
			.poll(() => manage.getByRole('alert').textContent())
			.toBe('文件太大：单个课件不能超过 1.0 MB。');
		await manage.getByLabel('选择文件').setInputFiles({
			name: '申报指引.pdf',
			mimeType: 'application/pdf',
			buffer: makePdf('Filing guide')
		});
		await manage.getByRole('button', { name: '上传' }).click();
		await expect.poll(() => manage.getByText('已上传：申报指引.pdf').count()).toBe(1);
		await expect.poll(() => manage.getByText('已上传的课件（2）').count()).toBe(1);
		await staff.close();
		expect(violations).toEqual([]);
	});

	test('what was refused left no row behind', async () => {
		await app.stop();
		const rows = await writePglite(pgliteDir, (db) =>
			db.material.findMany({ where: { classId }, select: { fileName: true } })
		);
		expect(rows.map((r) => r.fileName).sort()).toEqual(['申报指引.pdf', '留抵退税讲义.pdf'].sort());
		expect(storedFiles().filter((f) => !f.startsWith('.incoming'))).toHaveLength(2);
		expect(storedFiles().filter((f) => f.startsWith('.incoming'))).toEqual([]);
	});
});
