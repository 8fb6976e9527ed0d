import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser } from '../support/browser.ts';
import { privateServerDatabase, type PrivateDatabase } from '../support/database.ts';
import { ACCOUNTS, findClassId, goLive, LIVE_CLASS_TITLE, loginCookie } from '../support/live.ts';
import { Audience, decodesBeyond, playback } from '../support/live-browser.ts';
import { startMediaServer, type MediaServerProcess } from '../support/media-server-process.ts';

vi.setConfig({ expect: { poll: { timeout: 15_000, interval: 200 } } });

const SECRET = 'scale-out-test-secret-0123456789';

/**
 * Scale-out as deployed: a media server of its own (`npm run media-server`)
 * and two app processes (production build) on one PostgreSQL and one Redis,
 * each process on its own ports, TCP between them. The instructor's studio
 * talks to app A; viewers on A and B decode in real Chromium; a studio opened
 * through B takes over; the replay is recorded on the media server. Runs in
 * the pass with DATABASE_URL and REDIS_URL.
 */
describe.runIf(process.env.REDIS_URL && process.env.DATABASE_URL)(
	'a live class across two app processes and a media server',
	() => {
		let database: PrivateDatabase;
		let media: MediaServerProcess;
		let recordingsDir: string;
		const apps: AppServer[] = [];
		let browser: Browser;
		const audiences: Audience[] = [];

		beforeAll(async () => {
			recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-scale-out-'));
			[database, browser] = await Promise.all([
				privateServerDatabase({ seed: true }),
				launchBrowser()
			]);
			media = await startMediaServer({
				MEDIA_CONTROL_SECRET: SECRET,
				MEDIA_SERVER_ID: 'media-1',
				RECORDINGS_DIR: recordingsDir,
				MEDIA_RTC_MIN_PORT: '44000',
				MEDIA_RTC_MAX_PORT: '44999'
			});
			const shared = {
				DATABASE_URL: database.url,
				REDIS_URL: process.env.REDIS_URL,
				MEDIA_SERVER_URL: media.url,
				MEDIA_CONTROL_SECRET: SECRET,
				RECORDINGS_DIR: recordingsDir
			};
			apps.push(...(await Promise.all([startAppServer(shared), startAppServer(shared)])));
			audiences.push(...apps.map((app) => new Audience(browser, () => app.url)));
		});

		afterAll(async () => {
			for (const audience of audiences) await audience.close();
			await browser?.close();
			await Promise.all(apps.map((app) => app.stop()));
			await media?.stop();
			await database?.drop();
			if (recordingsDir) fs.rmSync(recordingsDir, { recursive: true, force: true });
		});

		it('viewers on either process watch a class presented through the other', async () => {
			const [a, b] = apps as [AppServer, AppServer];
			onTestFailed(() => {
				const logs: [string, string][] = [
					['app A', a.output()],
					['app B', b.output()],
					['media server', media.output()]
				];
				for (const [name, log] of logs) {
					console.error(`--- ${name} ---\n${log.slice(-4000)}`);
				}
			});
			const [onA, onB] = audiences as [Audience, Audience];
			const classId = await findClassId(a.url);
			const viewerCount = (page: import('playwright-core').Page) =>
				page.getByText(/在线观众：\d+ 人/).textContent();

			const studio = await onA.as('instructor');
			await goLive(studio, a.url, classId);

			const [viewerB, viewerA] = await Promise.all([onB.as('taxpayer1'), onA.as('taxpayer2')]);
			await Promise.all([
				gotoHydrated(viewerB, `${b.url}/classes/${classId}/watch`),
				gotoHydrated(viewerA, `${a.url}/classes/${classId}/watch`)
			]);
			await Promise.all([decodesBeyond(viewerB), decodesBeyond(viewerA)]);
			// The studio on A counts the viewer on B too.
			await expect.poll(() => viewerCount(studio)).toBe('在线观众：2 人');
			// Staff see the class once, on the media server, whichever process they ask.
			const cookie = await loginCookie(b.url, ACCOUNTS.staff);
			const placement = async () => {
				const html = await (
					await fetch(`${b.url}/manage/operations`, { headers: { cookie } })
				).text();
				const row = html.split('<tr').find((r) => r.includes(LIVE_CLASS_TITLE)) ?? '';
				const cells = row.slice(0, row.indexOf('</tr>'));
				return {
					placedOn: cells.split('<code>media-1</code>').length - 1,
					onMediaServer: cells.includes('媒体服务器'),
					people: cells.includes('1 / 2')
				};
			};
			await expect.poll(placement).toEqual({ placedOn: 1, onMediaServer: true, people: true });

			// A studio opened through B takes the class over from the one on A.
			const takeover = await onB.as('instructor');
			await goLive(takeover, b.url, classId);
			await expect
				.poll(() => studio.getByText('直播控制台已在另一个窗口打开').count())
				.toBeGreaterThan(0);
			await expect.poll(() => viewerCount(takeover)).toBe('在线观众：2 人');
			// Both viewers decode what the new studio sends.
			const [beforeB, beforeA] = await Promise.all([playback(viewerB), playback(viewerA)]);
			await Promise.all([
				decodesBeyond(viewerB, beforeB.frames),
				decodesBeyond(viewerA, beforeA.frames)
			]);

			// Ended through B, recorded on the media server: the replay is ready.
			await takeover.getByRole('button', { name: '结束直播' }).click();
			await takeover.getByRole('button', { name: '确认结束' }).click();
			const client = new pg.Client({ connectionString: database.url });
			await client.connect();
			try {
				await expect
					.poll(
						async () =>
							(
								await client.query<{ status: string; dir: string }>(
									'SELECT status, dir FROM recording WHERE class_id = $1',
									[classId]
								)
							).rows,
						{ timeout: 30_000 }
					)
					.toEqual([{ status: 'READY', dir: expect.any(String) }]);
				const { dir } = (
					await client.query<{ dir: string }>('SELECT dir FROM recording WHERE class_id = $1', [
						classId
					])
				).rows[0]!;
				expect(fs.readdirSync(path.join(recordingsDir, dir))).toContain('manifest.json');
			} finally {
				await client.end();
			}
		});
	}
);
