/**
 * Child process of the qa-fanout bench: holds the N socket.io clients (one
 * WebSocket each, multiplexing the '/qa' and '/raw' namespaces), sends the
 * questions and timestamps every delivery. Sender and receivers share this
 * process's clock. Driven by the parent over IPC.
 */
import { performance } from 'node:perf_hooks';
import { Manager, type Socket } from 'socket.io-client';

type Kind = 'qa' | 'raw';
type Command =
	| { cmd: 'connect'; url: string; n: number; cookie: string; askerCookie: string; classId: string }
	| { cmd: 'latency'; kind: Kind; count: number }
	| { cmd: 'throughput'; kind: Kind; count: number; window: number }
	| { cmd: 'close' };

let classId = '';
let receivers: Record<Kind, Socket[]> = { qa: [], raw: [] };
let asker: Record<Kind, Socket | null> = { qa: null, raw: null };
const managers: Manager[] = [];

/** Per-mark delivery bookkeeping. */
type Tracker = { sentAt: number; received: number; times: number[]; done: () => void };
const tracking = new Map<string, Tracker>();

/** One event may carry several questions: the Q&A namespace sends the asks it wrote together at once. */
function onDelivery(event: { questions: { text: string }[] }) {
	const now = performance.now();
	for (const { text } of event.questions) {
		const t = tracking.get(text);
		if (!t) continue;
		t.times.push(now - t.sentAt);
		if (++t.received === receivers.qa.length) t.done();
	}
}

function send(msg: unknown) {
	process.send!(msg);
}

async function connectAll(url: string, n: number, cookie: string, askerCookie: string) {
	const open = (cookieHeader: string) => {
		const manager = new Manager(url, {
			transports: ['websocket'],
			extraHeaders: { cookie: cookieHeader },
			reconnection: false,
			timeout: 60_000
		});
		managers.push(manager);
		return { qa: manager.socket('/qa'), raw: manager.socket('/raw') };
	};
	const join = async (s: { qa: Socket; raw: Socket }) => {
		await Promise.all(
			[s.qa, s.raw].map(
				(sock) =>
					new Promise<void>((resolve, reject) => {
						sock.once('connect', () => resolve());
						sock.once('connect_error', reject);
					})
			)
		);
		const reply = await s.qa.timeout(120_000).emitWithAck('qa:join', { classId, lastSeq: null });
		if (!reply.ok) throw new Error(`join refused: ${reply.error}`);
		await s.raw.timeout(120_000).emitWithAck('join', classId);
	};
	const BATCH = 100;
	for (let i = 0; i < n; i += BATCH) {
		const batch = Array.from({ length: Math.min(BATCH, n - i) }, () => open(cookie));
		await Promise.all(batch.map(join));
		for (const s of batch) {
			s.qa.on('qa:event', onDelivery);
			s.raw.on('qa:event', onDelivery);
			receivers.qa.push(s.qa);
			receivers.raw.push(s.raw);
		}
		if ((i / BATCH) % 10 === 0) send({ progress: receivers.qa.length });
	}
	const a = open(askerCookie);
	await join(a);
	asker = { qa: a.qa, raw: a.raw };
}

function ask(kind: Kind, text: string): Promise<void> {
	const s = asker[kind]!;
	if (kind === 'qa') {
		return s
			.timeout(60_000)
			.emitWithAck('qa:action', { type: 'ask', classId, text, anonymous: false })
			.then((r: { ok: boolean; error?: string }) => {
				if (!r.ok) throw new Error(`ask refused: ${r.error}`);
			});
	}
	return s.timeout(60_000).emitWithAck('ask', { classId, text });
}

function track(text: string, sentAt: number): Promise<Tracker> {
	return new Promise((resolve, reject) => {
		const t: Tracker = { sentAt, received: 0, times: [], done: () => {} };
		const timer = setTimeout(
			() => reject(new Error(`delivery timeout for ${text}: ${t.received}/${receivers.qa.length}`)),
			60_000
		);
		t.done = () => {
			clearTimeout(timer);
			tracking.delete(text);
			resolve(t);
		};
		tracking.set(text, t);
	});
}

const run = Date.now().toString(36);

async function latency(kind: Kind, count: number) {
	const all: number[] = [];
	const last: number[] = [];
	for (let k = 0; k < count; k++) {
		const text = `bench ${run} ${kind} latency ${k}：增值税留抵退税的申请条件是什么？`;
		const sentAt = performance.now();
		const delivered = track(text, sentAt);
		await ask(kind, text);
		const t = await delivered;
		all.push(...t.times);
		last.push(Math.max(...t.times));
		await new Promise((r) => setTimeout(r, 20));
	}
	return { all, last };
}

async function throughput(kind: Kind, count: number, window: number) {
	const started = performance.now();
	const deliveries: Promise<Tracker>[] = [];
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const k = next++;
			const text = `bench ${run} ${kind} burst ${k}：个人所得税汇算清缴的截止时间？`;
			deliveries.push(track(text, performance.now()));
			await ask(kind, text);
		}
	};
	await Promise.all(Array.from({ length: window }, worker));
	const trackers = await Promise.all(deliveries);
	const elapsed = (performance.now() - started) / 1000;
	const times = trackers.flatMap((t) => t.times);
	return { elapsed, perSecond: count / elapsed, all: times };
}

process.on('message', async (msg: Command) => {
	try {
		switch (msg.cmd) {
			case 'connect':
				classId = msg.classId;
				await connectAll(msg.url, msg.n, msg.cookie, msg.askerCookie);
				send({ ok: true, connected: receivers.qa.length });
				break;
			case 'latency':
				send({ ok: true, ...(await latency(msg.kind, msg.count)) });
				break;
			case 'throughput':
				send({ ok: true, ...(await throughput(msg.kind, msg.count, msg.window)) });
				break;
			case 'close':
				for (const m of managers) m.engine?.close();
				receivers = { qa: [], raw: [] };
				send({ ok: true });
				setTimeout(() => process.exit(0), 100);
				break;
		}
	} catch (err) {
		send({ ok: false, error: String(err) });
	}
});
send({ ready: true });
