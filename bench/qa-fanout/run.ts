/**
 * Q&A fan-out bench. One class, N socket.io clients joined to it (1,000 and
 * 5,000 by default), everything on loopback:
 *
 *   latency     one client asks (the full path: zod validation, rate limiter,
 *               transaction with the class row lock and seq bump, read back,
 *               per-audience views, broadcast); time from the ask to delivery
 *               at every client, p50/p99 over all deliveries, and the p50/p99
 *               of the slowest client per question;
 *   throughput  questions asked back to back (a window of acks in flight) until
 *               every client got every one: questions/s sustained;
 *   raw         the same payload, same N clients, through a bare socket.io
 *               namespace that broadcasts straight away (no auth per event, no
 *               database): the floor, and the ratio ours/raw.
 *
 * The server (socket.io + the Q&A namespace + the embedded PGlite database, as
 * the app runs by default) is this process; the clients live in one child
 * process, so each side gets one of the two cores. Receivers all share one
 * registered taxpayer account (per-connection cost is the same as distinct
 * accounts once joined); the asker is a second account. Rate limits are lifted
 * for the asker, everything else is the production code path.
 *
 * Run: [DATABASE_URL=postgresql://...] npx tsx bench/qa-fanout/run.ts [--sizes 1000,2000,5000] [--latency 30] [--burst 300] [--window 16]
 */
import { execFileSync, fork, type ChildProcess, type Serializable } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Server } from 'socket.io';
import { createSession } from '../../src/lib/server/auth/session.ts';
import { createDb } from '../../src/lib/server/db/client.ts';
import { registerQaNamespace } from '../../src/lib/server/qa/namespace.ts';
import { SessionCache } from '../../src/lib/server/auth/session-cache.ts';
import { CachedAccessFacts } from '../../src/lib/server/class-access.ts';
import { EventBus } from '../../src/lib/server/events.ts';
import { SocketSessions } from '../../src/lib/server/realtime/socket-sessions.ts';
import { createThrottles } from '../../src/lib/server/throttle.ts';

const { values: args } = parseArgs({
	options: {
		sizes: { type: 'string', default: '1000,2000,5000' },
		latency: { type: 'string', default: '30' },
		burst: { type: 'string', default: '300' },
		window: { type: 'string', default: '16' }
	}
});
const SIZES = args.sizes.split(',').map(Number);
const LATENCY_QUESTIONS = Number(args.latency);
const BURST = Number(args.burst);
const WINDOW = Number(args.window);

function pct(values: number[], p: number): number {
	if (!values.length) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (v: number) => `${v.toFixed(1)} ms`;

// --- database: a fresh embedded PGlite (default), or with DATABASE_URL a fresh
// database on that PostgreSQL server; migrated with the real migrations ---
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-fanout-'));
const serverUrl = process.env.DATABASE_URL || null;
let databaseUrl: string | undefined;
let dropDatabase = async () => {};
const pgliteDir = path.join(dir, 'pglite');
if (serverUrl) {
	const admin = new pg.Client({ connectionString: serverUrl });
	await admin.connect();
	const name = `qa_fanout_${process.pid}_${Date.now()}`;
	await admin.query(`CREATE DATABASE ${name}`);
	const u = new URL(serverUrl);
	u.pathname = `/${name}`;
	databaseUrl = u.toString();
	dropDatabase = async () => {
		await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
		await admin.end();
	};
}
console.log(`preparing database: ${databaseUrl ? 'server PostgreSQL' : `PGlite in ${pgliteDir}`}`);
execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
	env: { ...process.env, DATABASE_URL: databaseUrl ?? '', PGLITE_DIR: pgliteDir },
	stdio: 'pipe',
	timeout: 120_000
});
const db = await createDb({ DATABASE_URL: databaseUrl, PGLITE_DIR: pgliteDir });
const hash = 'unused-in-bench';
const [instructor, viewer, asker] = await Promise.all(
	['INSTRUCTOR', 'TAXPAYER', 'TAXPAYER'].map((role, i) =>
		db.user.create({
			data: {
				role: role as 'INSTRUCTOR' | 'TAXPAYER',
				displayName: ['讲师', '观众', '提问者'][i]!,
				email: `${randomUUID()}@bench.example`,
				passwordHash: hash
			}
		})
	)
);
/** A live class with the viewer and asker registered: each size starts from an empty class. */
async function liveClass() {
	const now = Date.now();
	const cls = await db.policyClass.create({
		data: {
			title: '压测课程',
			summary: 'bench',
			topics: [],
			instructorId: instructor!.id,
			startsAt: new Date(now),
			durationMinutes: 120,
			format: 'ONLINE',
			capacity: 10_000,
			registrationOpensAt: new Date(now - 86_400_000),
			registrationClosesAt: new Date(now - 1000),
			status: 'LIVE',
			wentLiveAt: new Date(now)
		}
	});
	for (const u of [viewer!, asker!]) {
		await db.registration.create({ data: { classId: cls.id, userId: u.id, status: 'CONFIRMED' } });
	}
	return cls;
}
const viewerCookie = `tc_session=${(await createSession(db, viewer!.id, 1)).token}`;
const askerCookie = `tc_session=${(await createSession(db, asker!.id, 1)).token}`;

// --- server: the Q&A namespace, plus a bare broadcast namespace for comparison ---
const http = createServer();
const io = new Server(http, { serveClient: false, pingTimeout: 120_000, pingInterval: 60_000 });
const events = EventBus.local();
const unlimited = { points: 1_000_000_000, durationSeconds: 60 };
registerQaNamespace(io, {
	db,
	accessFacts: new CachedAccessFacts(db, events),
	events,
	sessions: new SocketSessions({ db, events, sessions: new SessionCache(db, events, 1) }),
	throttles: createThrottles({
		policies: { qaJoin: unlimited, qaQuestion: unlimited, qaVote: unlimited }
	})
});
const raw = io.of('/raw');
raw.on('connection', (socket) => {
	socket.on('join', async (classId: string, ack: () => void) => {
		await socket.join(`raw:${classId}`);
		ack();
	});
	let n = 0;
	socket.on('ask', (p: { classId: string; text: string }, ack: () => void) => {
		// The same event shape and size the Q&A namespace sends.
		const at = new Date().toISOString();
		raw.to(`raw:${p.classId}`).emit('qa:event', {
			classId: p.classId,
			seq: ++n,
			questions: [
				{
					id: randomUUID(),
					version: n,
					status: 'VISIBLE',
					text: p.text,
					authorName: '提问者',
					voteCount: 0,
					pinned: false,
					offsetMs: 1234,
					answerText: null,
					answeredLive: false,
					answeredByName: null,
					answeredAt: null,
					answerOffsetMs: null,
					createdAt: at
				}
			]
		});
		ack();
	});
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

// --- clients ---
type Reply = { ok: boolean; error?: string; [k: string]: unknown };
function request(child: ChildProcess, msg: Serializable): Promise<Reply> {
	return new Promise((resolve, reject) => {
		const onMessage = (m: Reply & { progress?: number }) => {
			if (m.progress !== undefined) {
				process.stdout.write(`\r  connected ${m.progress}`);
				return;
			}
			child.off('message', onMessage);
			if (m.ok) resolve(m);
			else reject(new Error(m.error));
		};
		child.on('message', onMessage);
		child.send(msg);
	});
}

type Row = {
	n: number;
	kind: string;
	p50: number;
	p99: number;
	lastP50: number;
	lastP99: number;
	qps: number;
	burstP99: number;
};
const rows: Row[] = [];
const BUDGET_MS = 15 * 60_000;
const deadline = Date.now() + BUDGET_MS;

for (const n of SIZES) {
	if (Date.now() > deadline) break;
	console.log(`\n== ${n} clients`);
	const child = fork(path.join(import.meta.dirname, 'clients.ts'), {
		execArgv: ['--import', 'tsx'],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc']
	});
	await new Promise((resolve) => child.once('message', resolve));
	const cls = await liveClass();
	const t0 = Date.now();
	await request(child, {
		cmd: 'connect',
		url,
		n,
		cookie: viewerCookie,
		askerCookie,
		classId: cls.id
	});
	console.log(
		`\r  ${n} clients connected and joined in ${((Date.now() - t0) / 1000).toFixed(1)} s`
	);
	for (const kind of ['raw', 'qa'] as const) {
		const lat = (await request(child, {
			cmd: 'latency',
			kind,
			count: LATENCY_QUESTIONS
		})) as Reply & {
			all: number[];
			last: number[];
		};
		const burst = (await request(child, {
			cmd: 'throughput',
			kind,
			count: BURST,
			window: WINDOW
		})) as Reply & { perSecond: number; all: number[] };
		const row: Row = {
			n,
			kind,
			p50: pct(lat.all, 50),
			p99: pct(lat.all, 99),
			lastP50: pct(lat.last, 50),
			lastP99: pct(lat.last, 99),
			qps: burst.perSecond,
			burstP99: pct(burst.all, 99)
		};
		rows.push(row);
		console.log(
			`  ${kind.padEnd(3)} ask→every client: p50 ${ms(row.p50)}, p99 ${ms(row.p99)}; ` +
				`slowest client per question p50 ${ms(row.lastP50)}, p99 ${ms(row.lastP99)}; ` +
				`sustained ${row.qps.toFixed(0)} questions/s (${BURST} questions, p99 delivery under load ${ms(row.burstP99)})`
		);
	}
	await request(child, { cmd: 'close' });
	await new Promise((r) => setTimeout(r, 1000));
}

console.log('\n| clients | path | p50 | p99 | slowest-client p99 | questions/s |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
	console.log(
		`| ${r.n} | ${r.kind} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.lastP99)} | ${r.qps.toFixed(0)} |`
	);
}
for (const n of SIZES) {
	const ours = rows.find((r) => r.n === n && r.kind === 'qa');
	const base = rows.find((r) => r.n === n && r.kind === 'raw');
	if (!ours || !base) continue;
	console.log(
		`ratio ours/raw at ${n}: p50 ${(ours.p50 / base.p50).toFixed(2)}x, p99 ${(ours.p99 / base.p99).toFixed(2)}x, ` +
			`throughput ${(ours.qps / base.qps).toFixed(2)}x`
	);
}

io.close();
await db.$disconnect();
await dropDatabase();
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);
