import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { readManifest } from '../../media-server/src/index.ts';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { gotoHydrated, launchBrowser } from '../support/browser.ts';
import { privateServerDatabase, type PrivateDatabase } from '../support/database.ts';
import { startFailoverProxy, type FailoverProxy } from '../support/failover-proxy.ts';
import { ACCOUNTS, findClassId, goLive, LIVE_CLASS_TITLE, loginCookie } from '../support/live.ts';
import { Audience, decodesBeyond, playback } from '../support/live-browser.ts';
import { startMediaServer, type MediaServerProcess } from '../support/media-server-process.ts';

vi.setConfig({ expect: { poll: { timeout: 15_000, interval: 200 } } });

const SECRET = 'scale-out-test-secret-0123456789';

/**
 * Scale-out as deployed: a media server of its own (`npm run media-server`)
 * and two app processes (production build) on one PostgreSQL and one Redis,
 * each process on its own ports, TCP between them, and a load balancer that
 * sends browsers to app A while it lives. Runs in the pass with DATABASE_URL
 * and REDIS_URL.
 */
describe.runIf(process.env.REDIS_URL && process.env.DATABASE_URL)(
	'a live class across two app processes and a media server',
	() => {
		let database: PrivateDatabase;
		let media: MediaServerProcess;
		let mediaEnv: NodeJS.ProcessEnv;
		let balancer: FailoverProxy;
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
			mediaEnv = {
				MEDIA_CONTROL_SECRET: SECRET,
				MEDIA_SERVER_ID: 'media-1',
				RECORDINGS_DIR: recordingsDir,
				MEDIA_RTC_MIN_PORT: '44000',
				MEDIA_RTC_MAX_PORT: '44999'
			};
			media = await startMediaServer(mediaEnv);
			const shared = {
				DATABASE_URL: database.url,
				REDIS_URL: process.env.REDIS_URL,
				MEDIA_SERVER_URL: media.url,
				MEDIA_CONTROL_SECRET: SECRET,
				RECORDINGS_DIR: recordingsDir,
				// Reached directly and through the balancer: the origin is the request's.
				ORIGIN: undefined
			};
			apps.push(...(await Promise.all([startAppServer(shared), startAppServer(shared)])));
			balancer = await startFailoverProxy(apps.map((app) => app.url));
			audiences.push(
				new Audience(browser, () => balancer.url),
				new Audience(browser, () => apps[1]!.url)
			);
		});

		afterAll(async () => {
			for (const audience of audiences) await audience.close();
			await browser?.close();
			await balancer?.close();
			await Promise.all(apps.map((app) => app.stop()));
			await media?.stop();
			await database?.drop();
			if (recordingsDir) fs.rmSync(recordingsDir, { recursive: true, force: true });
		});

		it('viewers on either process watch one class, which survives losing an app process and the media server', async () => {
			const [a, b] = apps as [AppServer, AppServer];
			const [balanced, onB] = audiences as [Audience, Audience];
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
			const classId = await findClassId(b.url);
			const viewerCount = (page: Page) => page.getByText(/在线观众：\d+ 人/).textContent();
			const decodeOn = async (...pages: Page[]) => {
				const before = await Promise.all(pages.map((page) => playback(page)));
				await Promise.all(pages.map((page, i) => decodesBeyond(page, before[i]!.frames)));
			};

			// The class goes live from a studio on B; one viewer is on A (through
			// the balancer), the other on B.
			const first = await onB.as('instructor');
			await goLive(first, b.url, classId);
			const [viewerA, viewerB] = await Promise.all([balanced.as('taxpayer2'), onB.as('taxpayer1')]);
			await Promise.all([
				gotoHydrated(viewerA, `${balancer.url}/classes/${classId}/watch`),
				gotoHydrated(viewerB, `${b.url}/classes/${classId}/watch`)
			]);
			await decodeOn(viewerA, viewerB);
			await expect.poll(() => viewerCount(first)).toBe('在线观众：2 人');

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

			// A studio opened on A takes the class over from the one on B.
			const studio = await balanced.as('instructor');
			await goLive(studio, balancer.url, classId);
			await expect
				.poll(() => first.getByText('直播控制台已在另一个窗口打开').count())
				.toBeGreaterThan(0);
			await expect.poll(() => viewerCount(studio)).toBe('在线观众：2 人');
			await decodeOn(viewerA, viewerB);

			// App A dies. The studio and the viewer it served come back through
			// B by themselves, and the class carries on.
			a.process.kill('SIGKILL');
			await new Promise((resolve) => a.process.once('exit', resolve));
			apps.shift();
			await studio.getByRole('status').filter({ hasText: '直播中' }).first().waitFor();
			await decodeOn(viewerA, viewerB);
			await expect.poll(() => viewerCount(studio)).toBe('在线观众：2 人');

			// The media server dies and is started again on its port (as its
			// supervisor would): the processes bring their rooms, peers and
			// recording back, and the viewers decode again without a reload.
			const port = new URL(media.url).port;
			const killedAt = Date.now();
			media.process.kill('SIGKILL');
			await media.stop();
			media = await startMediaServer({ ...mediaEnv, MEDIA_CONTROL_PORT: port });
			await decodeOn(viewerA, viewerB);
			await studio.getByRole('status').filter({ hasText: '直播中' }).first().waitFor();

			// Ended: one replay, ready, holding the media from before the loss and after.
			await studio.getByRole('button', { name: '结束直播' }).click();
			await studio.getByRole('button', { name: '确认结束' }).click();
			const client = new pg.Client({ connectionString: database.url });
			await client.connect();
			try {
				const recordings = () =>
					client.query<{ status: string; dir: string }>(
						'SELECT status, dir FROM recording WHERE class_id = $1',
						[classId]
					);
				await expect
					.poll(async () => (await recordings()).rows.map((r) => r.status), { timeout: 30_000 })
					.toEqual(['READY']);
				const { dir } = (await recordings()).rows[0]!;
				const manifest = await readManifest(path.join(recordingsDir, dir));
				const started = manifest!.segments.map((segment) => segment.startedAt);
				expect(started.some((at) => at < killedAt)).toBe(true);
				expect(started.some((at) => at > killedAt)).toBe(true);
			} finally {
				await client.end();
			}
		});
	}
);
