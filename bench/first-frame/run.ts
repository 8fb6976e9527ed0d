/**
 * First-frame bench: how long a viewer waits, from page start (navigation) to
 * the first decoded video frame, through the full app against a bare
 * mediasoup + mediasoup-client page, in the same Chromium and the same run.
 *
 *   app       `node src/server.js` (production build) with a freshly migrated
 *             and seeded PGlite; the instructor (wang.lihua) goes live from
 *             /classes/<id>/studio; each viewer is a registered taxpayer with a
 *             session cookie opening /classes/<id>/watch: SvelteKit SSR +
 *             hydration, socket.io handshake authenticated from the cookie,
 *             registration check, signaling, ICE/DTLS, the first keyframe.
 *   baseline  bare mediasoup (one worker, one router) and a page bundled with
 *             esbuild that does only the mediasoup-client calls, with fetch()
 *             signaling (baseline-server.ts, baseline-client.ts).
 *
 * Both publishers (fake camera, 3-layer simulcast) run throughout; the joins
 * alternate app / baseline, one at a time, each in a fresh browser context.
 * One untimed warm-up join of each comes first. Loopback only; bounded by
 * --budget seconds.
 *
 * Run: npm run build && npx tsx bench/first-frame/run.ts [--joins 10] [--budget 240]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../tests/support/browser.ts';
import { ACCOUNTS, findClassId, loginCookie } from '../../tests/support/live.ts';
import { startBaseline } from './baseline-server.ts';

const { values: args } = parseArgs({
	options: {
		joins: { type: 'string', default: '10' },
		budget: { type: 'string', default: '240' }
	}
});
const JOINS = Number(args.joins);
const ROOT = path.resolve(import.meta.dirname, '../..');
if (!fs.existsSync(path.join(ROOT, 'build/handler.js'))) {
	throw new Error('No production build: run `npm run build` first.');
}
setTimeout(
	() => {
		console.error(`first-frame bench: over the ${args.budget} s budget, giving up`);
		process.exit(2);
	},
	Number(args.budget) * 1000
).unref();

const cleanups: (() => Promise<void> | void)[] = [];

/** Fresh PGlite, migrated and seeded exactly as `npm run demo` does. */
function prepareDatabase(): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'first-frame-db-'));
	cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
	const env = { ...process.env, DATABASE_URL: '', PGLITE_DIR: dir };
	execFileSync('npx', ['prisma', 'migrate', 'deploy'], { cwd: ROOT, env, stdio: 'pipe' });
	execFileSync('npx', ['tsx', 'prisma/seed.ts'], { cwd: ROOT, env, stdio: 'pipe' });
	return dir;
}

async function startApp(pgliteDir: string): Promise<string> {
	const port = 20000 + Math.floor(Math.random() * 10000);
	const url = `http://127.0.0.1:${port}`;
	const child: ChildProcess = spawn(process.execPath, ['src/server.js'], {
		cwd: ROOT,
		env: {
			...process.env,
			DATABASE_URL: '',
			PGLITE_DIR: pgliteDir,
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
		if (
			await fetch(url).then(
				(r) => r.ok,
				() => false
			)
		)
			return url;
		await new Promise((r) => setTimeout(r, 200));
	}
	throw new Error('app server did not start');
}

/** In every page: resolve window.__firstFrame with performance.now() at the first decoded frame. */
function watchFirstFrame() {
	const pcs: RTCPeerConnection[] = [];
	const marks: Record<string, number> = {};
	(window as unknown as { __marks: Record<string, number> }).__marks = marks;
	const Original = window.RTCPeerConnection;
	window.RTCPeerConnection = class extends Original {
		constructor(...a: ConstructorParameters<typeof RTCPeerConnection>) {
			super(...a);
			pcs.push(this);
			marks.pc ??= performance.now();
			this.addEventListener('connectionstatechange', () => {
				if (this.connectionState === 'connected') marks.connected ??= performance.now();
			});
		}
	};
	(window as unknown as { __firstFrame: Promise<number> }).__firstFrame = new Promise((resolve) => {
		const tick = async () => {
			for (const pc of pcs) {
				let frames = 0;
				(await pc.getStats()).forEach((s) => {
					if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
				});
				if (frames > 0) return resolve(performance.now());
			}
			setTimeout(tick, 5);
		};
		void tick();
	});
}

type Join = {
	firstFrameMs: number;
	domContentLoadedMs: number;
	/** Receive transport created: page, hydration, signaling up to createWebRtcTransport. */
	transportMs: number;
	/** ICE + DTLS done. */
	connectedMs: number;
	steps: Record<string, number>;
};

async function join(browser: Browser, url: string, cookie?: string): Promise<Join> {
	const context = await browser.newContext({ locale: 'zh-CN' });
	try {
		if (cookie) {
			const [name, value] = cookie.split('=') as [string, string];
			await context.addCookies([{ name, value, url }]);
		}
		// tsx (esbuild keepNames) wraps named functions in __name(), which pages lack.
		await context.addInitScript({ content: 'window.__name = (f) => f;' });
		await context.addInitScript(watchFirstFrame);
		const page = await context.newPage();
		await page.goto(url, { waitUntil: 'commit' });
		return await page.evaluate(async () => {
			const firstFrameMs = await Promise.race([
				(window as unknown as { __firstFrame: Promise<number> }).__firstFrame,
				new Promise<number>((_, reject) => setTimeout(() => reject(new Error('no frame')), 15_000))
			]);
			const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
			const marks = (window as unknown as { __marks: Record<string, number> }).__marks;
			return {
				firstFrameMs,
				domContentLoadedMs: nav.domContentLoadedEventEnd,
				transportMs: marks.pc ?? NaN,
				connectedMs: marks.connected ?? NaN,
				// The app's own user-timing marks (src/lib/media/viewer.ts), after
				// the HTML's first byte and the last script's arrival.
				steps: {
					'html:first-byte': Math.round(nav.responseStart),
					'js:fetched': Math.round(
						Math.max(
							0,
							...performance
								.getEntriesByType('resource')
								.filter((r) => r.name.endsWith('.js'))
								.map((r) => (r as PerformanceResourceTiming).responseEnd)
						)
					),
					...Object.fromEntries(
						performance
							.getEntriesByType('mark')
							.filter((m) => m.name.startsWith('live:'))
							.map((m) => [m.name, Math.round(m.startTime)])
					)
				}
			};
		});
	} finally {
		await context.close();
	}
}

function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
	const started = Date.now();
	const pgliteDir = prepareDatabase();
	const [appUrl, baseline, browser] = await Promise.all([
		startApp(pgliteDir),
		startBaseline(),
		launchBrowser()
	]);
	cleanups.push(() => browser.close(), baseline.close);
	console.log(`setup ${((Date.now() - started) / 1000).toFixed(1)} s`);

	const classId = await findClassId(appUrl);
	const instructor = await browser.newContext({ locale: 'zh-CN' });
	const [name, value] = (await loginCookie(appUrl, ACCOUNTS.instructor)).split('=') as [
		string,
		string
	];
	await instructor.addCookies([{ name, value, url: appUrl }]);
	const studio: Page = await instructor.newPage();
	await studio.goto(`${appUrl}/classes/${classId}/studio`);
	await studio.getByText('准备就绪').first().waitFor({ timeout: 15_000 });
	await studio.getByRole('button', { name: '开始直播' }).click();
	await studio.getByRole('status').getByText('直播中').waitFor({ timeout: 15_000 });

	const publisher = await (await browser.newContext()).newPage();
	await publisher.goto(`${baseline.url}/?role=pub`);
	await publisher.locator('body[data-state=live]').waitFor({ timeout: 15_000 });

	// One session per app viewer, taken before timing (both registered taxpayers in turn).
	const viewerCookies: string[] = [];
	for (let i = 0; i <= JOINS; i++) {
		viewerCookies.push(await loginCookie(appUrl, i % 2 ? ACCOUNTS.taxpayer2 : ACCOUNTS.taxpayer1));
	}
	const watchUrl = `${appUrl}/classes/${classId}/watch`;
	const baselineUrl = `${baseline.url}/?role=view`;
	await join(browser, watchUrl, viewerCookies[JOINS]);
	await join(browser, baselineUrl);

	const app: Join[] = [];
	const bare: Join[] = [];
	for (let i = 0; i < JOINS; i++) {
		const order = i % 2 === 0 ? ['app', 'bare'] : ['bare', 'app'];
		for (const which of order) {
			if (which === 'app') app.push(await join(browser, watchUrl, viewerCookies[i]));
			else bare.push(await join(browser, baselineUrl));
		}
	}

	const summary = (joins: Join[]) => {
		const ff = joins.map((j) => j.firstFrameMs);
		const median = (pick: (j: Join) => number) => Math.round(percentile(joins.map(pick), 50));
		return {
			p50: Math.round(percentile(ff, 50)),
			p95: Math.round(percentile(ff, 95)),
			min: Math.round(Math.min(...ff)),
			max: Math.round(Math.max(...ff)),
			domContentLoadedP50: median((j) => j.domContentLoadedMs),
			transportCreatedP50: median((j) => j.transportMs),
			connectedP50: median((j) => j.connectedMs),
			stepsP50: Object.fromEntries(
				Object.keys(joins[0]?.steps ?? {}).map((k) => [k, median((j) => j.steps[k] ?? NaN)])
			),
			samples: ff.map(Math.round)
		};
	};
	const result = {
		date: new Date().toISOString(),
		joins: JOINS,
		cpus: os.cpus().length,
		app: summary(app),
		baseline: summary(bare),
		ratio: { p50: 0, p95: 0 }
	};
	result.ratio.p50 = Number((result.app.p50 / result.baseline.p50).toFixed(2));
	result.ratio.p95 = Number((result.app.p95 / result.baseline.p95).toFixed(2));

	console.log(`\nfirst decoded frame after page start, ${JOINS} joins each (ms):`);
	console.log(
		'            p50     p95     min     max  | p50 of: DOMContentLoaded  transport  connected'
	);
	for (const [label, s] of [
		['app', result.app],
		['baseline', result.baseline]
	] as const) {
		console.log(
			`${label.padEnd(9)} ${[s.p50, s.p95, s.min, s.max].map((v) => String(v).padStart(6)).join('  ')}  |  ${String(s.domContentLoadedP50).padStart(16)}  ${String(s.transportCreatedP50).padStart(9)}  ${String(s.connectedP50).padStart(9)}`
		);
	}
	console.log('app steps (p50, ms after page start):', JSON.stringify(result.app.stepsP50));
	console.log(`ratio app/baseline: p50 ${result.ratio.p50}x, p95 ${result.ratio.p95}x`);
	const out = path.join(ROOT, 'bench/results', `first-frame-${Date.now()}.json`);
	fs.mkdirSync(path.dirname(out), { recursive: true });
	fs.writeFileSync(out, JSON.stringify(result, null, '\t') + '\n');
	console.log(
		`written ${path.relative(ROOT, out)}; total ${((Date.now() - started) / 1000).toFixed(1)} s`
	);
}

try {
	await main();
} finally {
	for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
}
process.exit(0);
