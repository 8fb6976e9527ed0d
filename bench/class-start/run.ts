/**
 * Class-start bench: the minute a class starts, everyone opens the watch page
 * at once. N viewers (5,000 by default), each with their own session and
 * confirmed registration, open the watch page's sockets ('/media' and '/qa'
 * on one WebSocket, as the page does) spread evenly over --spread seconds,
 * against the production server with the instructor live from a Chromium
 * studio. For each viewer: when the media join is answered and when the Q&A
 * snapshot arrives, from that viewer's start; p50 / p99 / max, on PGlite and
 * PostgreSQL. The floor, in the same run: a bare socket.io server answering
 * the same two joins at once.
 *
 * Real Chromium opens the watch page for 10 more viewers spread over the
 * rush, and for 3 before it (quiet): navigation to first decoded frame.
 *
 * Run: npm run build && npx tsx bench/class-start/run.ts [--n 5000] [--spread 10]
 *        [--db pglite|postgres|both] [--pg-url postgresql://root@127.0.0.1:5432/postgres]
 *        [--cpu-prof <dir>]
 */
import { fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import {
	generateSessionToken,
	SESSION_COOKIE,
	sessionIdFromToken
} from '../../src/lib/server/auth/session.ts';
import { launchBrowser } from '../../tests/support/browser.ts';
import { goLive } from '../../tests/support/live.ts';
import { playback, recordPeerConnections } from '../../tests/support/live-browser.ts';
import {
	benchDatabase,
	databaseKinds,
	DEFAULT_PG_URL,
	freePort,
	log,
	percentile,
	requireBuild,
	startServer,
	stopServer,
	table,
	type BenchDatabase,
	type Kind
} from '../support/app.ts';
import type { RushCommand, ViewerTiming } from './clients.ts';

const { values: args } = parseArgs({
	options: {
		n: { type: 'string', default: '5000' },
		spread: { type: 'string', default: '10' },
		db: { type: 'string', default: 'both' },
		'pg-url': { type: 'string', default: DEFAULT_PG_URL },
		'cpu-prof': { type: 'string' }
	}
});
const N = Number(args.n);
const SPREAD_MS = Number(args.spread) * 1000;
const KINDS = databaseKinds(args.db);
const BROWSER_VIEWERS = 10;
const QUIET_VIEWERS = 3;
const TIMEOUT_MS = 60_000;
if (!Number.isInteger(N) || N < 1) throw new Error('--n: a positive integer');
requireBuild();

type Seeded = {
	classId: string;
	instructor: string;
	sockets: string[];
	browsers: string[];
	quiet: string[];
};
const cookieOf = (token: string) => `${SESSION_COOKIE}=${token}`;

/** The instructor, N + 13 taxpayers with sessions, and their class with every seat taken. */
async function seed(target: BenchDatabase): Promise<Seeded> {
	const { db, close } = await target.open();
	try {
		const total = N + BROWSER_VIEWERS + QUIET_VIEWERS;
		const users = Array.from({ length: total + 1 }, (_, i) => ({
			id: randomUUID(),
			role: i === 0 ? ('INSTRUCTOR' as const) : ('TAXPAYER' as const),
			displayName: i === 0 ? '王丽华' : `纳税人${i}`,
			email: `bench-${randomUUID()}@bench.example`,
			// Sign-in is not what this measures.
			passwordHash: 'not-a-hash'
		}));
		const tokens = users.map(() => generateSessionToken());
		for (let i = 0; i < users.length; i += 1000) {
			await db.user.createMany({ data: users.slice(i, i + 1000) });
			await db.session.createMany({
				data: users.slice(i, i + 1000).map((u, j) => ({
					id: sessionIdFromToken(tokens[i + j]!),
					userId: u.id,
					expiresAt: new Date(Date.now() + 24 * 3600_000)
				}))
			});
		}
		const now = Date.now();
		const cls = await db.policyClass.create({
			data: {
				title: '个人所得税年度汇算（开课压测）',
				summary: '开课瞬间压测用课程',
				topics: ['个人所得税'],
				instructorId: users[0]!.id,
				startsAt: new Date(now + 5 * 60_000),
				durationMinutes: 90,
				format: 'ONLINE',
				capacity: total,
				confirmedCount: total,
				registrationOpensAt: new Date(now - 2 * 24 * 3600_000),
				registrationClosesAt: new Date(now - 1000)
			}
		});
		const taxpayers = users.slice(1);
		for (let i = 0; i < taxpayers.length; i += 1000) {
			await db.registration.createMany({
				data: taxpayers.slice(i, i + 1000).map((u) => ({
					classId: cls.id,
					userId: u.id,
					status: 'CONFIRMED' as const,
					confirmedAt: new Date(now - 3600_000)
				}))
			});
		}
		const cookies = tokens.slice(1).map(cookieOf);
		return {
			classId: cls.id,
			instructor: tokens[0]!,
			sockets: cookies.slice(0, N),
			browsers: tokens.slice(1 + N, 1 + N + BROWSER_VIEWERS),
			quiet: tokens.slice(1 + N + BROWSER_VIEWERS)
		};
	} finally {
		await close();
	}
}

/** The socket clients in their own process, so the server keeps its core. */
function rush(command: RushCommand): Promise<ViewerTiming[]> {
	const child = fork(path.join(import.meta.dirname, 'clients.ts'), [], {
		execArgv: ['--import', 'tsx', '--max-old-space-size=4096']
	});
	return new Promise((resolve, reject) => {
		child.once('message', (timings) => resolve(timings as ViewerTiming[]));
		child.once('exit', (code) => reject(new Error(`clients exited (${code}) before reporting`)));
		child.send(command);
	});
}

/** Navigation to the first decoded frame of the watch page, in ms (null: none within the timeout). */
async function firstFrame(browser: Browser, url: string, classId: string, token: string) {
	const context = await browser.newContext({ locale: 'zh-CN' });
	await context.addCookies([{ name: SESSION_COOKIE, value: token, url }]);
	await context.addInitScript(recordPeerConnections);
	const page = await context.newPage();
	const started = performance.now();
	try {
		await page.goto(`${url}/classes/${classId}/watch`, { timeout: TIMEOUT_MS });
	} catch (error) {
		// A page that does not load within the timeout has no first frame: reported as 'none'.
		log(`a Chromium viewer's page did not load: ${String(error).split('\n')[0]}`);
		return { ms: null, context };
	}
	while (performance.now() - started < TIMEOUT_MS) {
		if ((await playback(page)).frames > 0) return { ms: performance.now() - started, context };
		await sleep(50);
	}
	return { ms: null, context };
}

type Summary = {
	label: string;
	n: number;
	media: number[];
	qa: number[];
	both: number[];
	failed: number;
	/** Media joins answered into the SFU room, and sent to HLS by the overflow. */
	webrtc: number;
	hls: number;
	errors: string[];
};

function summarize(label: string, timings: ViewerTiming[]): Summary {
	const sorted = (xs: (number | null)[]) =>
		xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
	return {
		label,
		n: timings.length,
		media: sorted(timings.map((t) => t.media)),
		qa: sorted(timings.map((t) => t.qa)),
		both: sorted(
			timings.map((t) => (t.media !== null && t.qa !== null ? Math.max(t.media, t.qa) : null))
		),
		failed: timings.filter((t) => t.error).length,
		webrtc: timings.filter((t) => t.mode === 'webrtc').length,
		hls: timings.filter((t) => t.mode === 'hls').length,
		errors: [...new Set(timings.flatMap((t) => (t.error ? [t.error] : [])))].slice(0, 3)
	};
}

async function floor(): Promise<Summary> {
	const port = await freePort();
	const child = spawn(
		process.execPath,
		['--import', 'tsx', path.join(import.meta.dirname, 'raw-server.ts'), String(port)],
		{
			stdio: ['ignore', 'pipe', 'inherit']
		}
	);
	try {
		await new Promise<void>((resolve, reject) => {
			child.stdout!.once('data', () => resolve());
			child.once('exit', (code) => reject(new Error(`raw server exited (${code})`)));
		});
		log(`floor: ${N} viewers' sockets over ${SPREAD_MS / 1000} s at a bare socket.io server`);
		const timings = await rush({
			url: `http://127.0.0.1:${port}`,
			classId: randomUUID(),
			cookies: Array.from({ length: N }, () => cookieOf(generateSessionToken())),
			spreadMs: SPREAD_MS,
			mode: 'raw',
			timeoutMs: TIMEOUT_MS
		});
		return summarize('socket.io floor', timings);
	} finally {
		await stopServer(child);
	}
}

type Frames = { kind: Kind; quiet: (number | null)[]; rush: (number | null)[] };

async function runOne(kind: Kind, browser: Browser): Promise<{ summary: Summary; frames: Frames }> {
	log(`${kind}: preparing ${N + BROWSER_VIEWERS + QUIET_VIEWERS} registered viewers with sessions`);
	const target = await benchDatabase(kind, { pgUrl: args['pg-url'] });
	try {
		const seeded = await seed(target);
		const server = await startServer(
			{
				...target.env,
				MEDIA_LISTEN_IP: '127.0.0.1',
				MEDIA_WORKERS: '1',
				MEDIA_RTC_MIN_PORT: '32000',
				MEDIA_RTC_MAX_PORT: '32999'
			},
			{ cpuProfileDir: args['cpu-prof'] }
		);
		const contexts: { close: () => Promise<void> }[] = [];
		try {
			const studioContext = await browser.newContext({ locale: 'zh-CN' });
			contexts.push(studioContext);
			await studioContext.addCookies([
				{ name: SESSION_COOKIE, value: seeded.instructor, url: server.url }
			]);
			await goLive(await studioContext.newPage(), server.url, seeded.classId);
			log(`${kind}: live; ${QUIET_VIEWERS} Chromium viewers before the rush`);
			const quiet: (number | null)[] = [];
			for (const token of seeded.quiet) {
				const { ms, context } = await firstFrame(browser, server.url, seeded.classId, token);
				quiet.push(ms);
				await context.close();
			}
			log(
				`${kind}: rush: ${N} viewers' sockets and ${BROWSER_VIEWERS} Chromium viewers over ${SPREAD_MS / 1000} s`
			);
			const sockets = rush({
				url: server.url,
				classId: seeded.classId,
				cookies: seeded.sockets,
				spreadMs: SPREAD_MS,
				mode: 'app',
				timeoutMs: TIMEOUT_MS
			});
			const pages = Promise.all(
				seeded.browsers.map(async (token, i) => {
					await sleep((i * SPREAD_MS) / BROWSER_VIEWERS);
					const { ms, context } = await firstFrame(browser, server.url, seeded.classId, token);
					contexts.push(context);
					return ms;
				})
			);
			const [timings, rushFrames] = await Promise.all([sockets, pages]);
			return { summary: summarize(kind, timings), frames: { kind, quiet, rush: rushFrames } };
		} finally {
			for (const c of contexts) await c.close().catch(() => undefined);
			await stopServer(server.child);
		}
	} finally {
		await target.cleanup();
	}
}

const browser = await launchBrowser();
const summaries: Summary[] = [];
const frames: Frames[] = [];
try {
	summaries.push(await floor());
	for (const kind of KINDS) {
		try {
			const result = await runOne(kind, browser);
			summaries.push(result.summary);
			frames.push(result.frames);
		} catch (e) {
			console.error(`${kind}: bench failed:`, e);
			process.exitCode = 1;
		}
	}
} finally {
	await browser.close();
}

const stats = (xs: number[]) =>
	xs.length
		? `${percentile(xs, 50).toFixed(0)} / ${percentile(xs, 99).toFixed(0)} / ${xs.at(-1)!.toFixed(0)}`
		: '-';
const within = (xs: number[], ms: number) => xs.filter((x) => x <= ms).length;
console.log(
	`\nClass start: ${N} viewers open the watch page's sockets over ${SPREAD_MS / 1000} s, ` +
		`${os.cpus().length} CPUs, Node ${process.version}\n`
);
console.log(
	table([
		[
			'server',
			'media join p50/p99/max ms',
			'Q&A snapshot p50/p99/max ms',
			'both p50/p99/max ms',
			'both ≤ 15 s',
			'WebRTC / HLS',
			'failed'
		],
		...summaries.map((s) => [
			s.label,
			stats(s.media),
			stats(s.qa),
			stats(s.both),
			`${within(s.both, 15_000)} / ${s.n}`,
			`${s.webrtc} / ${s.hls}`,
			String(s.failed)
		])
	])
);
for (const s of summaries)
	if (s.errors.length) console.log(`${s.label} errors: ${s.errors.join('; ')}`);
const fmt = (xs: (number | null)[]) =>
	xs.map((x) => (x === null ? 'none' : x.toFixed(0))).join(', ');
console.log('\nChromium viewers, navigation to first decoded frame (ms):');
console.log(
	table([
		['database', 'before the rush', 'during the rush', 'rush p50 / max'],
		...frames.map((f) => {
			const got = f.rush.filter((x): x is number => x !== null).sort((a, b) => a - b);
			return [
				f.kind,
				fmt(f.quiet),
				fmt(f.rush),
				got.length ? `${percentile(got, 50).toFixed(0)} / ${got.at(-1)!.toFixed(0)}` : '-'
			];
		})
	])
);
