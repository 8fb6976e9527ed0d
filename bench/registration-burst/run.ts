/**
 * Registration burst bench: N taxpayers, already signed in, press "register"
 * for one class at the same moment. Every request goes through the production
 * build (`node src/server.js`): session hook, SvelteKit form action, the
 * registration transaction that locks the class row. Loopback only.
 *
 * Per database (embedded PGlite, server PostgreSQL, or both):
 *   1. a fresh database, migrated with `npx prisma migrate deploy`;
 *   2. N users with sessions and one class with --seats seats, inserted directly;
 *      the bench then closes its handle (PGlite allows one process per folder);
 *   3. the server starts on a free port, and N POSTs to `/classes/<id>?/register`
 *      fire at once;
 *   4. the server stops and the bench reads the database back: exactly `seats`
 *      CONFIRMED and N - seats WAITLISTED, confirmed_count equal to seats.
 *
 * Run: npm run build && npx tsx bench/registration-burst/run.ts [--n 2000] [--seats 500]
 *        [--db pglite|postgres|both] [--concurrency N] [--timeout 120] [--keep]
 *        [--pg-url postgresql://root@127.0.0.1:5432/postgres] [--cpu-prof <dir>]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
	generateSessionToken,
	SESSION_COOKIE,
	sessionIdFromToken
} from '../../src/lib/server/auth/session.ts';
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

const { values: args } = parseArgs({
	options: {
		n: { type: 'string', default: '2000' },
		seats: { type: 'string', default: '500' },
		db: { type: 'string', default: 'both' },
		concurrency: { type: 'string' },
		timeout: { type: 'string', default: '120' },
		'pg-url': { type: 'string', default: DEFAULT_PG_URL },
		keep: { type: 'boolean', default: false },
		'cpu-prof': { type: 'string' }
	}
});
const N = Number(args.n);
const SEATS = Number(args.seats);
const CONCURRENCY = Number(args.concurrency ?? args.n);
const TIMEOUT_MS = Number(args.timeout) * 1000;
const KINDS = databaseKinds(args.db);
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(SEATS) || SEATS < 1) {
	throw new Error('--n and --seats must be positive integers');
}
if (!Number.isInteger(CONCURRENCY) || CONCURRENCY < 1)
	throw new Error('--concurrency: integer >= 1');
requireBuild();

type Result = {
	kind: Kind;
	seconds: number;
	rps: number;
	p50: number;
	p90: number;
	p99: number;
	max: number;
	httpErrors: number;
	told: { CONFIRMED: number; WAITLISTED: number; refused: number };
	stored: { CONFIRMED: number; WAITLISTED: number; confirmedCount: number };
	/** Of the first `seats` requests to reach the registration service, how many were confirmed. */
	firstArrivalsConfirmed: number;
	ok: boolean;
};

async function seed(target: BenchDatabase) {
	const { db, close } = await target.open();
	try {
		// Sign-in is not what this measures: any string will do as password hash.
		const users = Array.from({ length: N }, (_, i) => ({
			id: randomUUID(),
			displayName: `纳税人${i + 1}`,
			email: `bench-${randomUUID()}@bench.example`,
			passwordHash: 'not-a-hash'
		}));
		const tokens = users.map(() => generateSessionToken());
		const instructor = await db.user.create({
			data: {
				role: 'INSTRUCTOR',
				displayName: '王丽华',
				email: `bench-${randomUUID()}@bench.example`,
				passwordHash: 'not-a-hash'
			}
		});
		for (let i = 0; i < N; i += 1000) {
			await db.user.createMany({ data: users.slice(i, i + 1000) });
			await db.session.createMany({
				data: users.slice(i, i + 1000).map((u, j) => ({
					id: sessionIdFromToken(tokens[i + j]!),
					userId: u.id,
					expiresAt: new Date(Date.now() + 30 * 24 * 3600_000)
				}))
			});
		}
		const now = Date.now();
		const cls = await db.policyClass.create({
			data: {
				title: '增值税留抵退税政策解读（压测）',
				summary: '报名压测用课程',
				topics: ['增值税'],
				instructorId: instructor.id,
				startsAt: new Date(now + 7 * 24 * 3600_000),
				durationMinutes: 90,
				format: 'ONLINE',
				capacity: SEATS,
				registrationOpensAt: new Date(now - 24 * 3600_000),
				registrationClosesAt: new Date(now + 6 * 24 * 3600_000)
			}
		});
		return { classId: cls.id, tokens };
	} finally {
		await close();
	}
}

type Reply = {
	ms: number;
	status: number;
	outcome: 'CONFIRMED' | 'WAITLISTED' | 'refused' | 'error';
};

function post(
	agent: http.Agent,
	port: number,
	classId: string,
	token: string,
	deadline: number
): Promise<Reply> {
	const started = performance.now();
	return new Promise((resolve) => {
		const done = (status: number, body: string) => {
			const ms = performance.now() - started;
			let outcome: Reply['outcome'] = 'error';
			try {
				const json = JSON.parse(body) as { type?: string; data?: string };
				if (json.type === 'success') {
					// devalue-encoded action data: {"registered": "CONFIRMED" | "WAITLISTED"}
					outcome = json.data?.includes('"CONFIRMED"')
						? 'CONFIRMED'
						: json.data?.includes('"WAITLISTED"')
							? 'WAITLISTED'
							: 'error';
				} else if (json.type === 'failure') outcome = 'refused';
			} catch {
				// Not JSON: counted as an error.
			}
			resolve({ ms, status, outcome });
		};
		const req = http.request(
			{
				host: '127.0.0.1',
				port,
				method: 'POST',
				path: `/classes/${classId}?/register`,
				agent,
				timeout: Math.max(1, deadline - Date.now()),
				headers: {
					cookie: `${SESSION_COOKIE}=${token}`,
					origin: `http://127.0.0.1:${port}`,
					'x-sveltekit-action': 'true',
					accept: 'application/json',
					'content-type': 'application/x-www-form-urlencoded',
					'content-length': '0'
				}
			},
			(res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (chunk) => (body += chunk));
				res.on('end', () => done(res.statusCode ?? 0, body));
				res.on('error', () => done(res.statusCode ?? 0, ''));
			}
		);
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', () => done(0, ''));
		req.end();
	});
}

async function burst(port: number, classId: string, tokens: string[]) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
	const deadline = Date.now() + TIMEOUT_MS;
	const replies: Reply[] = [];
	let next = 0;
	const started = performance.now();
	await Promise.all(
		Array.from({ length: Math.min(CONCURRENCY, tokens.length) }, async () => {
			while (next < tokens.length) {
				const token = tokens[next++]!;
				replies.push(await post(agent, port, classId, token, deadline));
			}
		})
	);
	const seconds = (performance.now() - started) / 1000;
	agent.destroy();
	return { replies, seconds };
}

async function runOne(kind: Kind): Promise<Result> {
	log(`${kind}: preparing database (${N} users with sessions, one class with ${SEATS} seats)`);
	const target = await benchDatabase(kind, { pgUrl: args['pg-url'], keep: args.keep });
	try {
		const { classId, tokens } = await seed(target);
		log(`${kind}: starting the production server`);
		const server = await startServer(target.env, { cpuProfileDir: args['cpu-prof'] });
		let replies: Reply[];
		let seconds: number;
		try {
			// Load the class page once so route modules are compiled and the DB is warm.
			await fetch(`${server.url}/classes/${classId}`, { signal: AbortSignal.timeout(10_000) });
			log(`${kind}: firing ${N} POST ?/register (${CONCURRENCY} in flight)`);
			({ replies, seconds } = await burst(server.port, classId, tokens));
		} finally {
			await stopServer(server.child);
		}
		const errors = replies.filter((r) => r.outcome === 'error');
		if (errors.length > 0) {
			const statuses = new Map<number, number>();
			for (const e of errors) statuses.set(e.status, (statuses.get(e.status) ?? 0) + 1);
			log(
				`${kind}: ${errors.length} failed requests, by HTTP status: ${JSON.stringify([...statuses])}`
			);
			log(`${kind}: server output (tail):\n${server.output().slice(-2000)}`);
		}

		const { db, close } = await target.open();
		let stored: Result['stored'];
		let firstArrivalsConfirmed = 0;
		try {
			const counts = await db.registration.groupBy({
				by: ['status'],
				where: { classId },
				_count: { _all: true }
			});
			const count = (s: string) => counts.find((c) => c.status === s)?._count._all ?? 0;
			const cls = await db.policyClass.findUniqueOrThrow({ where: { id: classId } });
			stored = {
				CONFIRMED: count('CONFIRMED'),
				WAITLISTED: count('WAITLISTED'),
				confirmedCount: cls.confirmedCount
			};
			// created_at is the moment the request reached the registration service.
			const firstArrivals = await db.registration.findMany({
				where: { classId },
				orderBy: [{ createdAt: 'asc' }, { seq: 'asc' }],
				take: SEATS,
				select: { status: true }
			});
			firstArrivalsConfirmed = firstArrivals.filter((r) => r.status === 'CONFIRMED').length;
		} finally {
			await close();
		}

		const ms = replies.map((r) => r.ms).sort((a, b) => a - b);
		const told = {
			CONFIRMED: replies.filter((r) => r.outcome === 'CONFIRMED').length,
			WAITLISTED: replies.filter((r) => r.outcome === 'WAITLISTED').length,
			refused: replies.filter((r) => r.outcome === 'refused').length
		};
		const expectConfirmed = Math.min(SEATS, N);
		const ok =
			errors.length === 0 &&
			stored.CONFIRMED === expectConfirmed &&
			stored.WAITLISTED === N - expectConfirmed &&
			stored.confirmedCount === expectConfirmed &&
			told.CONFIRMED === expectConfirmed &&
			told.WAITLISTED === N - expectConfirmed &&
			firstArrivalsConfirmed === expectConfirmed;
		return {
			kind,
			seconds,
			rps: N / seconds,
			p50: percentile(ms, 50),
			p90: percentile(ms, 90),
			p99: percentile(ms, 99),
			max: ms[ms.length - 1] ?? NaN,
			httpErrors: errors.length,
			told,
			stored,
			firstArrivalsConfirmed,
			ok
		};
	} finally {
		await target.cleanup();
	}
}

type Floor = { seconds: number; rps: number; p50: number; p99: number; max: number };

/** The same burst against a bare node:http server that answers without a database. */
async function runFloor(): Promise<Floor> {
	const port = await freePort();
	const child = spawn(
		process.execPath,
		['--import', 'tsx', path.join(import.meta.dirname, 'baseline-server.ts'), String(port)],
		{ stdio: ['ignore', 'pipe', 'inherit'] }
	);
	try {
		await new Promise<void>((resolve, reject) => {
			child.stdout!.once('data', () => resolve());
			child.once('exit', (code) => reject(new Error(`baseline server exited (${code})`)));
		});
		log(`floor: firing ${N} POSTs at a bare node:http server`);
		const tokens = Array.from({ length: N }, () => generateSessionToken());
		const { replies, seconds } = await burst(port, randomUUID(), tokens);
		const ms = replies.map((r) => r.ms).sort((a, b) => a - b);
		return {
			seconds,
			rps: N / seconds,
			p50: percentile(ms, 50),
			p99: percentile(ms, 99),
			max: ms[ms.length - 1] ?? NaN
		};
	} finally {
		await stopServer(child);
	}
}

const floor = await runFloor();
const results: Result[] = [];
for (const kind of KINDS) {
	try {
		results.push(await runOne(kind));
	} catch (e) {
		console.error(`${kind}: bench failed:`, e);
		process.exitCode = 1;
	}
}

const rows = [
	[
		'server',
		'requests',
		'wall s',
		'req/s',
		'of floor',
		'p50 ms',
		'p90 ms',
		'p99 ms',
		'max ms',
		'errors'
	],
	[
		'node:http floor',
		String(N),
		floor.seconds.toFixed(2),
		floor.rps.toFixed(0),
		'1.00',
		floor.p50.toFixed(0),
		'',
		floor.p99.toFixed(0),
		floor.max.toFixed(0),
		''
	],
	...results.map((r) => [
		r.kind,
		String(N),
		r.seconds.toFixed(2),
		r.rps.toFixed(0),
		(r.rps / floor.rps).toFixed(2),
		r.p50.toFixed(0),
		r.p90.toFixed(0),
		r.p99.toFixed(0),
		r.max.toFixed(0),
		String(r.httpErrors)
	])
];
const checks = [
	[
		'database',
		'confirmed',
		'waitlisted',
		'confirmed_count',
		'told C/W/refused',
		'expected',
		`first ${Math.min(SEATS, N)} arrivals confirmed`,
		'result'
	],
	...results.map((r) => [
		r.kind,
		String(r.stored.CONFIRMED),
		String(r.stored.WAITLISTED),
		String(r.stored.confirmedCount),
		`${r.told.CONFIRMED}/${r.told.WAITLISTED}/${r.told.refused}`,
		`${Math.min(SEATS, N)}/${N - Math.min(SEATS, N)}`,
		String(r.firstArrivalsConfirmed),
		r.ok ? 'PASS' : 'FAIL'
	])
];
console.log(
	`\nRegistration burst: ${N} signed-in users, ${SEATS} seats, ${CONCURRENCY} requests in flight, ` +
		`${os.cpus().length} CPUs, Node ${process.version}\n`
);
console.log(table(rows));
console.log('');
console.log(table(checks));
if (results.some((r) => !r.ok) || results.length < KINDS.length) process.exitCode = 1;
