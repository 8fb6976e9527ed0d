import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { freePort, startAppServer, type AppServer } from '../support/app-server.ts';
import { launchBrowser } from '../support/browser.ts';
import { copyPgliteTemplate } from '../support/database.ts';
import { Audience, decoding, statusOf } from '../support/live-browser.ts';
import { findClassId } from '../support/live.ts';

/**
 * The app server is killed with SIGKILL in the middle of a class, in real
 * Chromium against the production build: once it answers again, the studio
 * publishes again and the viewers decode again by themselves, with no
 * reload; and the class's recording is one replay covering both parts.
 */
vi.setConfig({ expect: { poll: { timeout: 30_000, interval: 100 } } });

let app: AppServer;
let browser: Browser;
let audience: Audience;
let env: NodeJS.ProcessEnv;
let port: number;
let recordingsDir: string;

beforeAll(async () => {
	port = await freePort();
	recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-recovery-'));
	// Port, database and recordings kept, so the server comes back where its clients expect it.
	env = {
		MEDIA_LISTEN_IP: '127.0.0.1',
		MEDIA_WORKERS: '1',
		MEDIA_RTC_MIN_PORT: '47000',
		MEDIA_RTC_MAX_PORT: '47999',
		MEDIA_RECORDING_MIN_PORT: '48000',
		MEDIA_RECORDING_MAX_PORT: '48099',
		PGLITE_DIR: copyPgliteTemplate(true),
		RECORDINGS_DIR: recordingsDir
	};
	[app, browser] = await Promise.all([startAppServer(env, port), launchBrowser()]);
	audience = new Audience(browser, () => app.url);
});

afterAll(async () => {
	await audience?.close();
	await browser?.close();
	await app?.stop();
	fs.rmSync(recordingsDir, { recursive: true, force: true });
});

test('after a SIGKILL mid-class the studio and viewers resume by themselves', async () => {
	const classId = await findClassId(app.url);
	const studio = await audience.as('instructor');
	await studio.goto(`${app.url}/classes/${classId}/studio`);
	await expect.poll(() => statusOf(studio).textContent()).toContain('准备就绪');
	await studio.getByRole('button', { name: '开始直播' }).click();
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');
	const liveAt = Date.now();
	const viewers = await Promise.all([audience.as('taxpayer1'), audience.as('taxpayer2')]);
	for (const viewer of viewers) {
		await viewer.goto(`${app.url}/classes/${classId}/watch`);
		await decoding(viewer);
	}
	for (const viewer of viewers) {
		await viewer.evaluate(() => ((window as unknown as { __marker: number }).__marker = 7));
	}

	const exited = new Promise((resolve) => app.process.once('exit', resolve));
	app.process.kill('SIGKILL');
	await exited;
	const killedAt = Date.now();
	app = await startAppServer(env, port);
	const answeringAt = Date.now();

	for (const viewer of viewers) await decoding(viewer);
	const decodingAt = Date.now();
	await expect.poll(() => statusOf(studio).textContent()).toContain('直播中');
	console.log(
		`SIGKILL: serving again ${answeringAt - killedAt} ms after the kill; ` +
			`both viewers decoding ${decodingAt - answeringAt} ms after that`
	);
	// The same pages, never reloaded.
	for (const viewer of viewers) {
		expect(await viewer.evaluate(() => (window as unknown as { __marker: number }).__marker)).toBe(
			7
		);
	}

	// The class ends: its recording is one replay covering both parts, the gap cut out.
	await studio.getByRole('button', { name: '结束直播' }).click();
	await studio.getByRole('button', { name: '确认结束' }).click();
	await expect.poll(() => statusOf(studio).textContent()).toContain('本次直播已结束');
	const endedAt = Date.now();
	const classDir = path.join(recordingsDir, classId);
	const recordings = fs.readdirSync(classDir);
	expect(recordings).toHaveLength(1);
	const playlist = path.join(classDir, recordings[0]!, 'index.m3u8');
	await expect
		.poll(
			() => fs.existsSync(playlist) && fs.readFileSync(playlist, 'utf8').includes('#EXT-X-ENDLIST')
		)
		.toBe(true);
	const duration = Number(
		execFileSync('ffprobe', [
			...['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0'],
			playlist
		])
			.toString()
			.trim()
	);
	const gap = decodingAt - killedAt;
	const live = endedAt - liveAt;
	console.log(
		`replay: one video of ${duration.toFixed(1)} s for ${(live / 1000).toFixed(1)} s live with a ${(gap / 1000).toFixed(1)} s gap`
	);
	// Both parts are in it, and the gap is not.
	expect(duration).toBeGreaterThan((killedAt - liveAt + (endedAt - decodingAt)) / 2000);
	expect(duration * 1000).toBeLessThan(live - gap / 2);
	expect(audience.problems).toEqual([]);
}, 240_000);
