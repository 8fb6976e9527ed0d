/**
 * Glass-to-glass latency of the HLS live view (流畅模式) against the WebRTC
 * view, in the same run and the same Chromium, through the full app
 * (production build, freshly migrated and seeded PGlite).
 *
 * The studio's camera is a canvas that draws the wall clock (ms) as two
 * copies of a 32-cell black/white code, 30 times a second; the browser
 * encodes it (H.264 simulcast, as published). Each viewer reads the code
 * back from the frame its <video> presents (requestVideoFrameCallback),
 * keeps readings whose two copies agree, and takes now − drawn time. All
 * pages share the machine's clock. Loopback only; bounded by --budget.
 *
 * Run: npm run build && npx tsx bench/hls-latency/run.ts [--seconds 60] [--budget 300]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../tests/support/browser.ts';
import { ACCOUNTS, findClassId, loginCookie } from '../../tests/support/live.ts';

const { values: args } = parseArgs({
	options: {
		seconds: { type: 'string', default: '60' },
		budget: { type: 'string', default: '300' }
	}
});
const SECONDS = Number(args.seconds);
const ROOT = path.resolve(import.meta.dirname, '../..');
if (!fs.existsSync(path.join(ROOT, 'build/handler.js'))) {
	throw new Error('No production build: run `npm run build` first.');
}
setTimeout(
	() => {
		console.error(`hls-latency bench: over the ${args.budget} s budget, giving up`);
		process.exit(2);
	},
	Number(args.budget) * 1000
).unref();

const cleanups: (() => Promise<void> | void)[] = [];
const log = (line: string) => console.log(`[hls-latency] ${line}`);

function prepareDatabase(): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hls-latency-db-'));
	cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
	const env = { ...process.env, DATABASE_URL: '', PGLITE_DIR: dir };
	execFileSync('npx', ['prisma', 'migrate', 'deploy'], { cwd: ROOT, env, stdio: 'pipe' });
	execFileSync('npx', ['tsx', 'prisma/seed.ts'], { cwd: ROOT, env, stdio: 'pipe' });
	return dir;
}

async function startApp(pgliteDir: string): Promise<string> {
	const port = 20000 + Math.floor(Math.random() * 10000);
	const url = `http://127.0.0.1:${port}`;
	const recordings = fs.mkdtempSync(path.join(os.tmpdir(), 'hls-latency-recordings-'));
	cleanups.push(() => fs.rmSync(recordings, { recursive: true, force: true }));
	const child: ChildProcess = spawn(process.execPath, ['src/server.js'], {
		cwd: ROOT,
		env: {
			...process.env,
			DATABASE_URL: '',
			PGLITE_DIR: pgliteDir,
			RECORDINGS_DIR: recordings,
			PORT: String(port),
			HOST: '127.0.0.1',
			ORIGIN: url,
			MEDIA_LISTEN_IP: '127.0.0.1',
			MEDIA_WORKERS: '1',
			MEDIA_RTC_MIN_PORT: '31000',
			MEDIA_RTC_MAX_PORT: '31999'
		},
		stdio: ['ignore', 'ignore', 'inherit']
	});
	cleanups.push(
		() =>
			new Promise<void>((resolve) => {
				if (child.exitCode !== null) return resolve();
				child.once('exit', () => resolve());
				child.kill('SIGTERM');
			})
	);
	for (let i = 0; i < 150; i++) {
		if (child.exitCode !== null) throw new Error('app server exited');
		if (await fetch(url).then((r) => r.ok, () => false)) return url; // prettier-ignore
		await new Promise((r) => setTimeout(r, 200));
	}
	throw new Error('app server did not start');
}

/** In the studio: the camera is a canvas drawing Date.now() as a code (see readClock). */
function clockCamera() {
	const canvas = document.createElement('canvas');
	canvas.width = 640;
	canvas.height = 360;
	const ctx = canvas.getContext('2d')!;
	const draw = () => {
		const t = Date.now() % 2 ** 30;
		ctx.fillStyle = '#808080';
		ctx.fillRect(0, 0, 640, 360);
		for (const top of [0, 200]) {
			for (let bit = 0; bit < 32; bit++) {
				const on = bit < 30 && (t >> bit) & 1;
				ctx.fillStyle = on ? '#fff' : '#000';
				ctx.fillRect((bit % 16) * 40, top + Math.floor(bit / 16) * 40, 40, 40);
			}
		}
	};
	setInterval(draw, 1000 / 30);
	draw();
	const track = canvas.captureStream(30).getVideoTracks()[0]!;
	const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
	navigator.mediaDevices.getUserMedia = async (constraints) =>
		constraints?.video ? new MediaStream([track.clone()]) : original(constraints);
}

/**
 * In a viewer: for every frame the <video> presents, read both copies of
 * the code and, when they agree, keep now − drawn time (ms).
 */
function readClock(seconds: number): Promise<number[]> {
	const video = document.querySelector('video')!;
	const canvas = document.createElement('canvas');
	const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
	const samples: number[] = [];
	const read = (top: number, w: number, h: number, data: Uint8ClampedArray) => {
		let t = 0;
		for (let bit = 0; bit < 30; bit++) {
			const x = Math.floor((((bit % 16) * 40 + 20) / 640) * w);
			const y = Math.floor(((top + Math.floor(bit / 16) * 40 + 20) / 360) * h);
			const i = (y * w + x) * 4;
			if (data[i]! + data[i + 1]! + data[i + 2]! > 3 * 128) t |= 1 << bit;
		}
		return t;
	};
	return new Promise((resolve) => {
		const until = Date.now() + seconds * 1000;
		const onFrame = () => {
			const now = Date.now() % 2 ** 30;
			const w = video.videoWidth;
			const h = video.videoHeight;
			if (w > 0 && h > 0) {
				canvas.width = w;
				canvas.height = h;
				ctx.drawImage(video, 0, 0, w, h);
				const { data } = ctx.getImageData(0, 0, w, h);
				const a = read(0, w, h, data);
				const b = read(200, w, h, data);
				const latency = now - a;
				if (a === b && latency >= 0 && latency < 60_000) samples.push(latency);
			}
			if (Date.now() < until) video.requestVideoFrameCallback(onFrame);
			else resolve(samples);
		};
		video.requestVideoFrameCallback(onFrame);
	});
}

function stats(samples: number[]) {
	const sorted = [...samples].sort((a, b) => a - b);
	const at = (q: number) =>
		sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
	return {
		frames: sorted.length,
		p50Ms: at(0.5),
		p95Ms: at(0.95),
		minMs: sorted[0] ?? NaN,
		maxMs: sorted.at(-1) ?? NaN
	};
}

async function main() {
	const app = await startApp(prepareDatabase());
	const classId = await findClassId(app);
	const browser: Browser = await launchBrowser();
	cleanups.push(() => browser.close());
	const page = async (account: keyof typeof ACCOUNTS, init?: () => void): Promise<Page> => {
		const context = await browser.newContext({ locale: 'zh-CN' });
		const [name, value] = (await loginCookie(app, ACCOUNTS[account])).split('=') as [
			string,
			string
		];
		await context.addCookies([{ name, value, url: app }]);
		// tsx keeps function names with a helper the page does not have.
		await context.addInitScript({ content: 'window.__name = (f) => f;' });
		if (init) await context.addInitScript(init);
		return context.newPage();
	};

	const studio = await page('instructor', clockCamera);
	await studio.goto(`${app}/classes/${classId}/studio`);
	await studio.getByRole('status').first().filter({ hasText: '准备就绪' }).waitFor();
	await studio.getByRole('button', { name: '开始直播' }).click();
	await studio.getByRole('status').first().filter({ hasText: '直播中' }).waitFor();

	const webrtc = await page('taxpayer1');
	const hls = await page('taxpayer2');
	await Promise.all([webrtc, hls].map((p) => p.goto(`${app}/classes/${classId}/watch`)));
	await webrtc.getByRole('status').first().filter({ hasText: '正在播放' }).waitFor();
	await hls.locator('html[data-hydrated]').waitFor({ state: 'attached' });
	// The stream needs its first segments before 流畅模式 can start.
	for (let i = 0; i < 100; i++) {
		if ((await fetch(`${app}/classes/${classId}/live-stream`)).status !== 404) break;
		await new Promise((r) => setTimeout(r, 200));
	}
	await hls.getByRole('button', { name: '切换到流畅模式 (HTTP)' }).click();
	await hls.getByTestId('live-mode').and(hls.locator('[data-mode=hls]')).waitFor();
	await hls.getByRole('status').first().filter({ hasText: '正在播放' }).waitFor();
	log(`both viewers playing; reading the clock for ${SECONDS} s`);

	const [webrtcSamples, hlsSamples] = await Promise.all([
		webrtc.evaluate(readClock, SECONDS),
		hls.evaluate(readClock, SECONDS)
	]);
	const result = {
		when: new Date().toISOString(),
		loadAverage: os.loadavg(),
		seconds: SECONDS,
		webrtc: stats(webrtcSamples),
		hls: stats(hlsSamples)
	};
	console.log('\nGlass-to-glass latency (ms): ours (HLS, 流畅模式) vs baseline (WebRTC), same run');
	console.log('view   | frames | p50 | p95 | min | max');
	for (const [name, s] of [
		['HLS', result.hls],
		['WebRTC', result.webrtc]
	] as const) {
		console.log(`${name} | ${s.frames} | ${s.p50Ms} | ${s.p95Ms} | ${s.minMs} | ${s.maxMs}`);
	}
	const out = path.join(ROOT, 'bench', 'results', `hls-latency-${Date.now()}.json`);
	fs.mkdirSync(path.dirname(out), { recursive: true });
	fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
	console.log(`wrote ${out}`);
}

main()
	.catch((error) => {
		console.error(error);
		process.exitCode = 1;
	})
	.finally(async () => {
		for (const cleanup of cleanups.reverse()) await cleanup();
		process.exit();
	});
