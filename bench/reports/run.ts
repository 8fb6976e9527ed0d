/**
 * Reports bench: the cross-class report (/manage/reports) over a year of
 * ended classes and their live attendance intervals, registrations, replay
 * seconds, questions and survey answers, on PGlite and on PostgreSQL.
 *
 * Per database:
 *   1. a fresh database, migrated with `npx prisma migrate deploy`, and data
 *      generated inside the database (generate_series, a fixed random seed):
 *      --classes ended classes over 2025 and --intervals live intervals (each
 *      attendee with one to several connections, overlapping and with gaps),
 *      times --scale;
 *   2. the production server (`node src/server.js`) on a free port; a staff
 *      session asks for the report page --runs times, one after another, after
 *      3 warm-up requests: the page's server time (loopback round trip). The
 *      first warm-up is timed on its own: it computes and stores every class's
 *      figures (the cold request);
 *   3. with the server stopped, in this process: the report alone
 *      (`overviewReport`, --runs times), and the baseline measured in the same
 *      run: the same live figures computed the plain way, every interval of the
 *      year fetched and merged per person in JavaScript. The stored figures
 *      must equal the figures computed afresh, and both must agree with the
 *      baseline on every class's live seconds.
 *
 * Run: npm run build && npx tsx bench/reports/run.ts [--db pglite|postgres|both]
 *        [--classes 200] [--intervals 100000] [--scale 1] [--runs 20]
 *        [--pg-url postgresql://root@127.0.0.1:5432/postgres] [--keep]
 */
import { parseArgs } from 'node:util';
import type { Db } from '../../src/lib/server/db/client.ts';
import {
	generateSessionToken,
	SESSION_COOKIE,
	sessionIdFromToken
} from '../../src/lib/server/auth/session.ts';
import { endedClassFigures } from '../../src/lib/server/reports/figures-cache.ts';
import { classFigures } from '../../src/lib/server/reports/figures.ts';
import { overviewReport } from '../../src/lib/server/reports/report.ts';
import {
	benchDatabase,
	databaseKinds,
	DEFAULT_PG_URL,
	log,
	percentile,
	requireBuild,
	startServer,
	stopServer,
	type Kind
} from '../support/app.ts';

const { values: args } = parseArgs({
	options: {
		db: { type: 'string', default: 'both' },
		classes: { type: 'string', default: '200' },
		intervals: { type: 'string', default: '100000' },
		scale: { type: 'string', default: '1' },
		runs: { type: 'string', default: '20' },
		'pg-url': { type: 'string', default: DEFAULT_PG_URL },
		keep: { type: 'boolean', default: false }
	}
});
const SCALE = Number(args.scale);
const CLASSES = Math.round(Number(args.classes) * SCALE);
const INTERVALS = Math.round(Number(args.intervals) * SCALE);
const RUNS = Number(args.runs);
const KINDS = databaseKinds(args.db);
for (const [name, n] of Object.entries({ CLASSES, INTERVALS, RUNS })) {
	if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
}
requireBuild();

/** Registrations per class; about 70% of them attend live. */
const REGISTERED_PER_CLASS = 250;
const ATTENDING_PER_CLASS = 175;
const RANGE = { from: '2025-01', to: '2025-12' };

/**
 * The year's data, generated in the database. Ids are md5-based UUIDs so rows
 * refer to each other by formula; `setseed` makes every run the same.
 */
function seedSql(staffSessionId: string): string {
	const users = Math.max(3000, CLASSES * 15);
	const perClass = Math.max(1, Math.round(INTERVALS / CLASSES));
	const id = (prefix: string, n: string) => `md5('${prefix}-' || ${n})::uuid::text`;
	const starts = (i: string) =>
		`(timestamp '2025-01-01 02:00' + ((${i} - 1) * 364.0 / ${CLASSES}) * interval '1 day')`;
	return `
		SELECT setseed(0.42);
		INSERT INTO app_user (id, role, display_name, email, password_hash, updated_at)
		SELECT ${id('instructor', 'i')}, 'INSTRUCTOR', '讲师' || i, 'instructor' || i || '@bench.example', 'x', now()
		FROM generate_series(1, 12) i;
		INSERT INTO app_user (id, role, display_name, email, password_hash, updated_at)
		VALUES ('bench-staff', 'STAFF', '报表压测', 'staff@bench.example', 'x', now());
		INSERT INTO session (id, user_id, expires_at)
		VALUES ('${staffSessionId}', 'bench-staff', now() + interval '30 days');
		INSERT INTO app_user (id, role, display_name, email, password_hash, priority_service, updated_at)
		SELECT ${id('user', 'k')}, 'TAXPAYER', '学员' || k, 'user' || k || '@bench.example', 'x', k % 12 = 0, now()
		FROM generate_series(1, ${users}) k;
		INSERT INTO policy_class (id, title, summary, topics, instructor_id, starts_at, duration_minutes,
		                          format, capacity, confirmed_count, registration_opens_at,
		                          registration_closes_at, status, went_live_at, ended_at, updated_at)
		SELECT ${id('class', 'i')}, '税收政策直播课 ' || i, '压测', ARRAY[(ARRAY['增值税', '个人所得税',
		       '企业所得税', '发票', '社保费', '留抵退税', '税费优惠'])[1 + i % 7]],
		       ${id('instructor', '(1 + i % 12)')}, ${starts('i')}, 90, 'ONLINE', 1000, ${REGISTERED_PER_CLASS},
		       ${starts('i')} - interval '10 days', ${starts('i')}, 'ENDED', ${starts('i')},
		       ${starts('i')} + interval '90 minutes', now()
		FROM generate_series(1, ${CLASSES}) i;
		INSERT INTO registration (id, class_id, user_id, status, confirmed_at)
		SELECT gen_random_uuid()::text, ${id('class', 'i')}, ${id('user', `(1 + (i * 97 + r) % ${users})`)},
		       'CONFIRMED', ${starts('i')} - interval '5 days'
		FROM generate_series(1, ${CLASSES}) i, generate_series(1, ${REGISTERED_PER_CLASS}) r;
		INSERT INTO live_attendance (id, class_id, user_id, connection_id, joined_at, left_at, seen_at)
		SELECT gen_random_uuid()::text, ${id('class', 'i')},
		       ${id('user', `(1 + (i * 97 + 1 + j % ${ATTENDING_PER_CLASS}) % ${users})`)},
		       'conn-' || i || '-' || j, t.joined, t.joined + t.span, t.joined + t.span
		FROM generate_series(1, ${CLASSES}) i, generate_series(1, ${perClass}) j,
		     -- j in both columns: a fresh random pair for every row.
		     LATERAL (SELECT ${starts('i')} - interval '5 minutes' + random() * interval '90 minutes'
		                         + j * interval '0 seconds' AS joined,
		                     random() * interval '40 minutes' + j * interval '0 seconds' AS span) t;
		INSERT INTO replay_watch (class_id, user_id, seconds, reported_at)
		SELECT ${id('class', 'i')}, ${id('user', `(1 + (i * 97 + 100 + r) % ${users})`)},
		       round((random() * 3600)::numeric, 1)::float8, ${starts('i')} + interval '2 days'
		FROM generate_series(1, ${CLASSES}) i, generate_series(1, 60) r;
		INSERT INTO question (id, class_id, author_id, text, status, offset_ms, answer_text, version, updated_at)
		SELECT gen_random_uuid()::text, ${id('class', 'i')}, ${id('user', `(1 + (i * 97 + q) % ${users})`)},
		       '请问第 ' || q || ' 个问题怎么申报？', 'VISIBLE', (random() * 5400000)::int,
		       CASE WHEN random() < 0.6 THEN '已答复' END, 1, now()
		FROM generate_series(1, ${CLASSES}) i, generate_series(1, 20) q;
		INSERT INTO survey_response (id, class_id, user_id, content, instructor, av_quality, comment, updated_at)
		SELECT gen_random_uuid()::text, ${id('class', 'i')}, ${id('user', `(1 + (i * 97 + s) % ${users})`)},
		       1 + floor(random() * 5)::int, 1 + floor(random() * 5)::int, 1 + floor(random() * 5)::int,
		       CASE WHEN s % 5 = 0 THEN '讲得很好' END, now()
		FROM generate_series(1, ${CLASSES}) i, generate_series(1, 60) s;
		ANALYZE;`;
}

type Timing = { p50: number; p95: number };

async function timed(runs: number, once: () => Promise<unknown>): Promise<Timing> {
	const ms: number[] = [];
	for (let i = 0; i < runs; i++) {
		const started = performance.now();
		await once();
		ms.push(performance.now() - started);
	}
	ms.sort((a, b) => a - b);
	return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
}

/**
 * The baseline: live seconds per class the plain way, every interval of the
 * range fetched and merged per person in JavaScript, cut to the live window.
 */
async function naiveLiveSeconds(db: Db, from: Date, to: Date): Promise<Map<string, number>> {
	const classes = await db.policyClass.findMany({
		where: { status: 'ENDED', startsAt: { gte: from, lt: to } },
		select: { id: true, instructorId: true, wentLiveAt: true, endedAt: true }
	});
	const window = new Map(classes.map((c) => [c.id, c]));
	const rows = await db.liveAttendance.findMany({
		where: {
			classId: { in: classes.map((c) => c.id) },
			user: { role: { in: ['TAXPAYER', 'INSTRUCTOR'] } }
		},
		select: { classId: true, userId: true, joinedAt: true, leftAt: true, seenAt: true }
	});
	const byPerson = new Map<string, { j: number; l: number }[]>();
	for (const r of rows) {
		const c = window.get(r.classId)!;
		if (!c.wentLiveAt || r.userId === c.instructorId) continue;
		const j = Math.max(r.joinedAt.getTime(), c.wentLiveAt.getTime());
		const l = Math.min((r.leftAt ?? r.seenAt).getTime(), (c.endedAt ?? new Date()).getTime());
		if (l <= j) continue;
		const key = `${r.classId} ${r.userId}`;
		let list = byPerson.get(key);
		if (!list) byPerson.set(key, (list = []));
		list.push({ j, l });
	}
	const seconds = new Map<string, number>();
	for (const [key, list] of byPerson) {
		list.sort((a, b) => a.j - b.j || a.l - b.l);
		let total = 0;
		let start = list[0]!.j;
		let end = list[0]!.l;
		for (const i of list.slice(1)) {
			if (i.j > end) {
				total += end - start;
				start = i.j;
				end = i.l;
			} else end = Math.max(end, i.l);
		}
		total += end - start;
		const classId = key.split(' ')[0]!;
		seconds.set(classId, (seconds.get(classId) ?? 0) + total / 1000);
	}
	return seconds;
}

type Result = {
	kind: Kind;
	seedSeconds: number;
	intervals: number;
	coldPage: number;
	page: Timing;
	report: Timing;
	baseline: Timing;
	pageBytes: number;
	agree: boolean;
};

async function bench(kind: Kind): Promise<Result> {
	log(`${kind}: a fresh database, migrated`);
	const target = await benchDatabase(kind, { pgUrl: args['pg-url'], keep: args.keep });
	try {
		const token = generateSessionToken();
		log(`${kind}: generating ${CLASSES} classes and ${INTERVALS} intervals`);
		const seedStarted = performance.now();
		await target.exec(seedSql(sessionIdFromToken(token)));
		const seedSeconds = (performance.now() - seedStarted) / 1000;
		log(`${kind}: generated in ${seedSeconds.toFixed(1)} s; starting the server`);

		const server = await startServer(target.env);
		let pageBytes = 0;
		let coldPage: number;
		let page: Timing;
		try {
			const url = `${server.url}/manage/reports?from=${RANGE.from}&to=${RANGE.to}`;
			const get = async () => {
				const response = await fetch(url, { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
				const html = await response.text();
				if (response.status !== 200 || !html.includes('data-total="classes"')) {
					throw new Error(`report page answered ${response.status}`);
				}
				pageBytes = html.length;
			};
			coldPage = (await timed(1, get)).p50;
			for (let i = 0; i < 2; i++) await get();
			page = await timed(RUNS, get);
		} finally {
			await stopServer(server.child);
		}

		log(`${kind}: the report computation and the baseline, in process`);
		const { db, close } = await target.open();
		try {
			const intervals = await db.liveAttendance.count();
			const from = new Date(`${RANGE.from}-01T00:00:00+08:00`);
			const to = new Date('2026-01-01T00:00:00+08:00');
			const stored = await endedClassFigures(db, from, to);
			const ours = await classFigures(
				db,
				stored.map((f) => f.classId)
			);
			const theirs = await naiveLiveSeconds(db, from, to);
			const agree =
				ours.length === CLASSES &&
				JSON.stringify(stored) === JSON.stringify(ours) &&
				ours.every((f) => Math.abs(f.liveSeconds - (theirs.get(f.classId) ?? 0)) < 0.01);
			const report = await timed(RUNS, () => overviewReport(db, RANGE));
			const baseline = await timed(RUNS, () => naiveLiveSeconds(db, from, to));
			return { kind, seedSeconds, intervals, coldPage, page, report, baseline, pageBytes, agree };
		} finally {
			await close();
		}
	} finally {
		await target.cleanup();
	}
}

const results: Result[] = [];
let failed = false;
for (const kind of KINDS) {
	try {
		results.push(await bench(kind));
	} catch (error) {
		failed = true;
		console.error(`${kind}: ${error instanceof Error ? error.message : error}`);
	}
}

const ms = (t: Timing) => `${t.p50.toFixed(0).padStart(6)} ${t.p95.toFixed(0).padStart(6)}`;
console.log(
	`\nCross-class report, ${CLASSES} ended classes, ${INTERVALS} live intervals ` +
		`(${REGISTERED_PER_CLASS} registered per class), ${RUNS} runs, ms (p50 p95):\n`
);
console.log(
	'database   | cold page | page (HTTP)   | report alone  | baseline (fetch + merge in JS) | page KB | same figures'
);
for (const r of results) {
	const cold = r.coldPage.toFixed(0).padStart(9);
	const kb = String(Math.round(r.pageBytes / 1024)).padStart(7);
	console.log(
		`${r.kind.padEnd(10)} | ${cold} | ${ms(r.page)} | ${ms(r.report)} | ${ms(r.baseline).padEnd(30)} | ${kb} | ${r.agree ? 'yes' : 'NO'}`
	);
	if (!r.agree) failed = true;
}
process.exit(failed ? 1 : 0);
