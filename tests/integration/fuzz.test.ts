import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import {
	ACCOUNTS,
	connected,
	findClassId,
	loginCookie,
	mediaSocket,
	postForm
} from '../support/live.ts';
import { io } from 'socket.io-client';

/**
 * Seeded, repeatable fuzzing of every socket event and form action of the
 * production build with random and malformed payloads. Nothing may answer
 * 500, the process must not crash, and the server keeps answering.
 * FUZZ_SEED reruns one sequence; FUZZ_CASES scales it.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const CASES = Number(process.env.FUZZ_CASES ?? 1500);

/** mulberry32: small, fast and the same on every machine. */
function prng(seed: number) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

class Gen {
	constructor(
		readonly random: () => number,
		readonly known: { classIds: string[] }
	) {}
	int(n: number) {
		return Math.floor(this.random() * n);
	}
	pick<T>(items: readonly T[]): T {
		return items[this.int(items.length)]!;
	}
	uuid() {
		const hex = () => this.int(16).toString(16);
		const part = (n: number) => Array.from({ length: n }, hex).join('');
		return `${part(8)}-${part(4)}-4${part(3)}-${this.pick(['8', '9', 'a', 'b'])}${part(3)}-${part(12)}`;
	}
	string(): string {
		return this.pick([
			() => '',
			() => ' ',
			() => '留抵退税'.repeat(this.int(5) + 1),
			() => 'x'.repeat(this.pick([1, 10, 100, 1000, 10_000, 100_000])),
			() => '\u0000\u0001\u0007\u001f',
			() => '\ud800',
			() => '<script>alert(1)</script>',
			() => "'; DROP TABLE app_user; --",
			() => '=HYPERLINK("http://evil.example")',
			() => '../../../../etc/passwd',
			() => '%00%2e%2e%2f',
			() => '2026-02-30T25:61',
			() => '2026-12-01T10:00',
			() => '-1',
			() => '1e309',
			() => 'NaN',
			() => String(this.int(1_000_000_000)),
			() => this.uuid(),
			() => this.pick(this.known.classIds),
			() => 'true',
			() => 'on',
			() => '\r\n\r\nSet-Cookie: x=1',
			() => String.fromCodePoint(...Array.from({ length: 20 }, () => this.int(0x2ffff)))
		])();
	}
	value(depth = 0): unknown {
		const leaves = [
			() => this.string(),
			() => this.int(2) === 0,
			() => null,
			() => this.pick([0, -1, 1.5, 2 ** 31, -(2 ** 53), Number.MAX_SAFE_INTEGER]),
			() => undefined
		];
		if (depth > 2) return this.pick(leaves)();
		return this.pick([
			...leaves,
			() => Array.from({ length: this.int(4) }, () => this.value(depth + 1)),
			() => this.object(depth + 1)
		])();
	}
	object(depth = 0): Record<string, unknown> {
		const keys = [
			'classId',
			'role',
			'method',
			'data',
			'transportId',
			'producerId',
			'consumerId',
			'direction',
			'kind',
			'rtpParameters',
			'rtpCapabilities',
			'dtlsParameters',
			'questionId',
			'text',
			'type',
			'lastSeq',
			'__proto__',
			'constructor'
		];
		const out: Record<string, unknown> = {};
		for (let i = this.int(5); i > 0; i--) out[this.pick(keys)] = this.value(depth);
		return out;
	}
}

// --- what is fuzzed -------------------------------------------------------

const MEDIA_METHODS = [
	'getRouterRtpCapabilities',
	'createWebRtcTransport',
	'connectTransport',
	'produce',
	'consume',
	'resumeConsumer',
	'setPreferredLayers',
	'pauseProducer',
	'resumeProducer',
	'closeProducer',
	'restartIce',
	'toString',
	'__proto__'
];
const QA_ACTIONS = [
	'ask',
	'vote',
	'approve',
	'hide',
	'unhide',
	'pin',
	'unpin',
	'claim',
	'release',
	'answer',
	'answeredLive',
	'settings',
	'delete'
];

function socketEvent(g: Gen, ns: 'media' | 'qa'): [string, unknown] {
	const classId = g.int(3) === 0 ? g.uuid() : g.pick(g.known.classIds);
	if (ns === 'media') {
		return g.pick([
			() => [
				'live:join',
				{ classId, role: g.pick(['viewer', 'publisher', 'admin']), ...g.object() }
			],
			() => ['live:join', g.value()],
			() => ['live:media', { method: g.pick(MEDIA_METHODS), data: g.object() }],
			() => ['live:media', g.value()],
			() => [g.pick(['live:go', 'live:end', 'live:stats']), g.pick([{}, g.value()])],
			() => [g.pick(['live:status', 'session:ended', 'qa:join', 'x']), g.value()]
		] as const)() as [string, unknown];
	}
	return g.pick([
		() => ['qa:join', { classId, lastSeq: g.pick([null, 0, -1, 2 ** 40, g.value()]) }],
		() => ['qa:join', g.value()],
		() => [
			'qa:action',
			{
				type: g.pick(QA_ACTIONS),
				classId,
				questionId: g.pick([g.uuid(), g.string()]),
				text: g.string(),
				anonymous: g.value(),
				preModeration: g.value()
			}
		],
		() => ['qa:action', g.value()],
		() => [g.pick(['qa:event', 'live:join', 'y']), g.value()]
	] as const)() as [string, unknown];
}

type FormCase = { path: string; fields: Record<string, string>; as: 'admin' | 'taxpayer' | null };

function formCase(g: Gen, classId: string): FormCase {
	const field = () => (g.int(8) === 0 ? g.string() : g.pick(['', 'x', g.string()]));
	const fieldsOf = (names: string[]) => {
		const fields: Record<string, string> = {};
		for (const name of names) if (g.int(5) > 0) fields[name] = field();
		for (let i = g.int(3); i > 0; i--) fields[g.string().slice(0, 40)] = field();
		return fields;
	};
	const cls = g.int(3) === 0 ? g.uuid() : classId;
	const classForm = [
		'title',
		'summary',
		'topics',
		'instructorId',
		'startsAt',
		'durationMinutes',
		'format',
		'location',
		'capacity',
		'registrationOpensAt',
		'registrationClosesAt'
	];
	const targets: [string, string[]][] = [
		['/login', ['contact', 'password']],
		[
			'/signup',
			[
				'displayName',
				'contact',
				'password',
				'passwordConfirm',
				'companyName',
				'creditCode',
				'priorityService',
				'priorityReason'
			]
		],
		['/lang', ['locale', 'redirectTo']],
		['/care-mode', ['careMode', 'redirectTo']],
		['/account?/profile', ['displayName', 'companyName', 'creditCode', 'priorityService']],
		['/account?/password', ['currentPassword', 'newPassword', 'passwordConfirm']],
		[`/classes/${cls}?/register`, []],
		[`/classes/${cls}?/cancel`, []],
		[`/classes/${cls}/replay?/visibility`, ['recordingId', 'visibility']],
		[`/classes/${cls}/replay?/delete`, ['recordingId']],
		['/my?/dismiss', ['registrationId']],
		['/manage/classes/new', classForm],
		[`/manage/classes/${cls}?/save`, classForm],
		[`/manage/classes/${cls}?/cancel`, ['reason']],
		[`/manage/classes/${cls}?/interpreter`, ['interpreter']],
		['/admin/users?/role', ['userId', 'role']],
		['/admin/users?/access', ['userId', 'disabled']],
		['/account?/email', ['emailReminders', 'locale']],
		[`/classes/${cls}/survey`, ['content', 'instructor', 'avQuality', 'comment']],
		[`/manage/classes/${cls}/materials?/upload`, ['file']],
		[`/manage/classes/${cls}/materials?/visibility`, ['materialId', 'visibility']],
		[`/manage/classes/${cls}/materials?/delete`, ['materialId']],
		['/manage/mail?/retry', ['jobId']],
		[`/classes/${cls}?/${g.string().slice(0, 20)}`, []]
	];
	const [path, names] = g.pick(targets);
	return { path, fields: fieldsOf(names), as: g.pick(['admin', 'taxpayer', null] as const) };
}

// --- the run ----------------------------------------------------------------

let app: AppServer;
let classIds: string[];
const cookies: Record<'admin' | 'taxpayer' | 'instructor', string> = {
	admin: '',
	taxpayer: '',
	instructor: ''
};
const sockets: Socket[] = [];

beforeAll(async () => {
	app = await startAppServer({ MEDIA_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1' });
	classIds = [
		await findClassId(app.url),
		await findClassId(app.url, '数电发票开具与红冲操作演示'),
		await findClassId(app.url, '2026 年度个人所得税综合所得汇算清缴')
	];
	cookies.admin = await loginCookie(app.url, ACCOUNTS.admin);
	cookies.taxpayer = await loginCookie(app.url, ACCOUNTS.taxpayer1);
	cookies.instructor = await loginCookie(app.url, ACCOUNTS.instructor);
});

afterAll(async () => {
	for (const s of sockets) s.disconnect();
	await app?.stop();
});

async function stillServing() {
	expect(app.process.exitCode).toBeNull();
	const home = await fetch(app.url);
	expect(home.status).toBe(200);
}

test(`socket events: ${CASES} random and malformed messages (seed ${SEED})`, async () => {
	const g = new Gen(prng(SEED), { classIds });
	const open = async (ns: 'media' | 'qa', cookie: string) => {
		const socket =
			ns === 'media'
				? mediaSocket(app.url, cookie)
				: io(`${app.url}/qa`, {
						transports: ['websocket'],
						reconnection: false,
						extraHeaders: { cookie }
					});
		sockets.push(socket);
		await connected(socket);
		return socket;
	};
	const pool = await Promise.all(
		(['media', 'qa'] as const).flatMap((ns) =>
			(['admin', 'taxpayer', 'instructor'] as const).map(async (who) => ({
				ns,
				socket: await open(ns, cookies[who])
			}))
		)
	);
	let answered = 0;
	for (let i = 0; i < CASES; i++) {
		const { ns, socket } = g.pick(pool);
		if (!socket.connected) socket.connect();
		const [event, payload] = socketEvent(g, ns);
		const known = (ns === 'media' ? /^live:(join|media|go|end|stats)$/ : /^qa:(join|action)$/).test(
			event
		);
		if (known && g.int(5) > 0) {
			// A known event with an acknowledgement must always be answered.
			const reply = await socket
				.timeout(15_000)
				.emitWithAck(event, payload)
				.catch((err: unknown) => {
					throw new Error(
						`${ns} ${event} ${JSON.stringify(payload)?.slice(0, 300)}: ${String(err)}\n${app.output().slice(-3000)}`
					);
				});
			expect(typeof reply === 'object' && reply !== null && 'ok' in reply, event).toBe(true);
			answered++;
		} else {
			socket.emit(event, payload);
		}
		if (i % 250 === 0) await stillServing();
	}
	expect(answered).toBeGreaterThan(CASES / 2);
	await stillServing();
});

test(`form actions: ${CASES} random and malformed posts (seed ${SEED})`, async () => {
	const g = new Gen(prng(SEED + 1), { classIds });
	const statuses = new Map<number, number>();
	for (let i = 0; i < CASES; i++) {
		const c = formCase(g, g.pick(classIds));
		const cookie = c.as ? cookies[c.as] : undefined;
		const encoding = g.int(10);
		let response: Response;
		if (encoding < 7) {
			response = await postForm(app.url, c.path, c.fields, cookie);
		} else {
			const body =
				encoding === 7
					? JSON.stringify(c.fields)
					: encoding === 8
						? new Uint8Array(Array.from({ length: g.int(2000) }, () => g.int(256)))
						: Object.entries(c.fields).reduce(
								(form, [k, v]) => (form.append(k, v), form),
								new FormData()
							);
			response = await fetch(`${app.url}${c.path}`, {
				method: 'POST',
				redirect: 'manual',
				headers: {
					origin: app.url,
					...(cookie ? { cookie } : {}),
					...(encoding === 7 ? { 'content-type': 'application/json' } : {}),
					...(encoding === 8
						? {
								'content-type': g.pick([
									'text/plain',
									'application/x-www-form-urlencoded',
									'multipart/form-data; boundary=x'
								])
							}
						: {})
				},
				body
			});
		}
		await response.arrayBuffer();
		statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
		expect(
			response.status,
			`${c.path} ${JSON.stringify(c.fields).slice(0, 300)}\n${app.output().slice(-3000)}`
		).toBeLessThan(500);
		if (i % 250 === 0) await stillServing();
	}
	// Pages with random query strings too.
	for (let i = 0; i < CASES / 5; i++) {
		const query = new URLSearchParams(
			Object.fromEntries(
				[
					'q',
					'topic',
					'format',
					'from',
					'to',
					'past',
					'action',
					'actor',
					'page',
					'r',
					'redirectTo',
					'table'
				].map((k) => [k, g.string().slice(0, 300)])
			)
		);
		const path = g.pick([
			'/',
			'/admin/audit',
			`/classes/${g.pick(classIds)}/replay`,
			'/login',
			'/manage/reports',
			'/manage/reports/download'
		]);
		const response = await fetch(`${app.url}${path}?${query}`, {
			redirect: 'manual',
			headers: { cookie: cookies.admin }
		});
		await response.arrayBuffer();
		expect(response.status, `${path}?${query}`.slice(0, 300)).toBeLessThan(500);
	}
	expect(statuses.size).toBeGreaterThan(2);
	await stillServing();
});
