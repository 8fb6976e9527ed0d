import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { copyPgliteTemplate, writePglite } from '../support/database.ts';
import { makeClass } from '../support/fixtures.ts';
import {
	ACCOUNTS,
	ask,
	findClassId,
	LIVE_CLASS_TITLE,
	loginCookie,
	MediaSockets
} from '../support/live.ts';

/**
 * The operations page on the production build: bureau staff only. It shows
 * this process answering with its media worker, and each live class on the
 * process its media room and its recording run on.
 */
const INSTANCE = 'ops-test-app';
let app: AppServer;
let classId: string;
const sockets = new MediaSockets(() => app.url);
/** Ended classes whose recordings are unfinished: one another process finishes, one nobody does. */
const unfinished = { held: '', orphaned: '' };

beforeAll(async () => {
	const dir = copyPgliteTemplate(true);
	await writePglite(dir, async (db) => {
		for (const which of ['held', 'orphaned'] as const) {
			const cls = await makeClass(db, { status: 'ENDED', title: `收尾测试课 ${which}` });
			unfinished[which] = cls.title;
			await db.recording.create({
				data:
					which === 'held'
						? { classId: cls.id, dir: cls.id, status: 'PROCESSING', progress: 40 }
						: {
								classId: cls.id,
								dir: cls.id,
								status: 'READY',
								playlistPath: `${cls.id}/index.m3u8`
							}
			});
			if (which === 'held') {
				await db.lease.create({
					data: {
						name: `recording:${cls.id}`,
						holder: 'other-process',
						expiresAt: new Date(Date.now() + 3600_000)
					}
				});
			}
		}
	});
	app = await startAppServer({
		MEDIA_LISTEN_IP: '127.0.0.1',
		MEDIA_WORKERS: '1',
		PGLITE_DIR: dir,
		INSTANCE_ID: INSTANCE
	});
	classId = await findClassId(app.url);
});

afterAll(async () => {
	sockets.close();
	await app?.stop();
});

async function page(account: keyof typeof ACCOUNTS | null): Promise<Response> {
	const cookie = account ? await loginCookie(app.url, ACCOUNTS[account]) : null;
	return fetch(`${app.url}/manage/operations`, {
		headers: cookie ? { cookie } : {},
		redirect: 'manual'
	});
}

/** The table row (`<tr>…</tr>`) of the page holding `text`. */
function rowWith(html: string, text: string): string | undefined {
	return html.split('<tr').find((row) => row.includes(text));
}

test('is for bureau staff only', async () => {
	expect((await page(null)).status).toBe(303);
	expect((await page('taxpayer1')).status).toBe(403);
	expect((await page('instructor')).status).toBe(403);
	expect((await page('admin')).status).toBe(200);
});

test('shows the process answering, and where a live class runs and is recorded', async () => {
	const before = await (await page('staff')).text();
	const process = rowWith(before, '本进程');
	expect(process).toContain(`<code>${INSTANCE}</code>`);
	expect(process).toContain('正常');
	expect(process).toContain('#0');
	expect(before).toContain('目前没有直播中的课堂');

	const [teacher, viewer] = await Promise.all([sockets.as('instructor'), sockets.as('taxpayer1')]);
	expect(await ask(teacher, 'live:join', { classId, role: 'publisher' })).toMatchObject({
		ok: true
	});
	expect(await ask(teacher, 'live:go', {})).toEqual({ ok: true, status: 'LIVE' });
	expect(await ask(viewer, 'live:join', { classId, role: 'viewer' })).toMatchObject({ ok: true });

	// The recording starts in the background, and holds its lease once started.
	await expect
		.poll(async () => rowWith(await (await page('staff')).text(), LIVE_CLASS_TITLE))
		.toMatch(new RegExp(`<code>${INSTANCE}</code>.*1 / 1.*<code>${INSTANCE}</code>`, 's'));

	viewer.disconnect();
	await expect
		.poll(async () => rowWith(await (await page('staff')).text(), LIVE_CLASS_TITLE))
		.toContain('1 / 0');
});

test('shows the recordings being finished after their class, and who finishes them', async () => {
	const html = await (await page('staff')).text();
	const held = rowWith(html, unfinished.held);
	expect(held).toContain('正在生成回放');
	expect(held).toContain('40%');
	expect(held).toContain('<code>other-process</code>');
	// This process tried the orphaned one's MP4 at start-up (there are no files)
	// and let it go; the replay stays READY, waiting for the next try.
	await expect
		.poll(async () => rowWith(await (await page('staff')).text(), unfinished.orphaned))
		.toContain('暂无进程处理');
	expect(rowWith(html, unfinished.orphaned)).toContain('回放可看，正在生成下载文件');
});
