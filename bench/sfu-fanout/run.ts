/**
 * SFU fan-out bench: one publisher (720p VP8 1.2 Mbit/s + Opus, looped from a
 * clip FFmpeg encodes once, then sends with -c copy so encoding costs nothing
 * during the run), then viewers added in steps until packet loss passes 1% or
 * the worker CPU saturates. Loopback only.
 *
 * Scenarios, in one run:
 *   bare     mediasoup alone: one worker, one router (the baseline);
 *   ours-1w  media-server's ClassRoom on one worker;
 *   ours-2w  media-server on two workers, the second router fed by pipeToRouter.
 *
 * A viewer is an SRTP PlainTransport with a video and an audio consumer. It
 * sends to a UDP socket that a tiny helper process binds and never reads, so
 * the kernel discards the packets and the bench spends no CPU receiving them
 * (the worker still encrypts every packet). Three viewers per scenario send to
 * sockets this process reads instead, as an end-to-end check.
 *
 * Loss is measured inside mediasoup, per consumer and atomically (one
 * getStats call returns both sides): packets sent to the viewer against
 * packets the feeding producer received plus those it saw missing. Under CPU
 * overload the worker falls behind on its input socket, the kernel drops
 * publisher packets, and that shows up as loss at every viewer. For a piped
 * router the feeding producer is the pipe producer, whose sequence gaps also
 * count what the first worker lost.
 *
 * Run: npx tsx bench/sfu-fanout/run.ts [--step 100] [--max 1500] [--window 2500] [--budget 55]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { createMediaServer, mediaCodecs, type ClassRoom } from '../../media-server/src/index.js';

const { values: args } = parseArgs({
	options: {
		step: { type: 'string', default: '100' },
		max: { type: 'string', default: '1500' },
		window: { type: 'string', default: '2500' },
		budget: { type: 'string', default: '55' }
	}
});
const STEP = Number(args.step);
const MAX_VIEWERS = Number(args.max);
const WINDOW_MS = Number(args.window);
const WARMUP_MS = 1500;
/** Seconds each scenario may run; the two-worker one gets a third more. */
const BUDGET_S = Number(args.budget);
const MAX_LOSS = 0.01;
const CPU_SATURATED = 0.95;
const SAMPLE_VIEWERS = 3;

const CLIP = path.join(os.tmpdir(), 'sfu-fanout-720p-vp8-opus.webm');
const VIDEO_PT = 101;
const AUDIO_PT = 100;
const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80' as const;

interface Step {
	viewers: number;
	loss: number;
	sampleLoss: number;
	/** Worker CPU as a fraction of one core, per worker. */
	cpu: number[];
}

interface ScenarioResult {
	name: string;
	workers: number;
	steps: Step[];
	stoppedBy: string;
}

/** What a scenario must provide; the measuring loop is shared. */
interface System {
	workers: types.Worker[];
	publisherPorts: { video: PortPair; audio: PortPair };
	addViewer(index: number, sinkPort: number): Promise<types.Consumer[]>;
	close(): Promise<void>;
}

interface PortPair {
	rtp: number;
	rtcp: number;
}

const log = (line: string) => console.log(`[sfu-fanout] ${line}`);

async function encodeClip(): Promise<void> {
	log('encoding a 10 s 720p VP8 1.2 Mbit/s + Opus clip');
	await run('ffmpeg', [
		'-hide_banner',
		'-loglevel',
		'error',
		'-y',
		'-f',
		'lavfi',
		'-i',
		'testsrc2=size=1280x720:rate=30',
		'-f',
		'lavfi',
		'-i',
		'sine=frequency=440:sample_rate=48000',
		'-t',
		'10',
		'-c:v',
		'libvpx',
		'-b:v',
		'1200k',
		'-deadline',
		'realtime',
		'-cpu-used',
		'16',
		'-g',
		'30',
		'-c:a',
		'libopus',
		'-b:a',
		'64k',
		CLIP
	]);
}

function run(cmd: string, argv: string[]): Promise<void> {
	const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
	return new Promise((resolve, reject) =>
		child.once('exit', (code) =>
			code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))
		)
	);
}

function streamClip(ports: System['publisherPorts'], ssrc: { video: number; audio: number }) {
	const out = (p: PortPair) => `rtp://127.0.0.1:${p.rtp}?rtcpport=${p.rtcp}&pkt_size=1200`;
	// One FFmpeg, two RTP outputs: mediasoup's comedia mode binds each plain
	// transport to the first source address, so each kind has its own.
	// prettier-ignore
	return spawn('ffmpeg', [
		'-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', CLIP,
		'-map', '0:v', '-c', 'copy', '-payload_type', String(VIDEO_PT), '-ssrc', String(ssrc.video),
		'-f', 'rtp', out(ports.video),
		'-map', '0:a', '-c', 'copy', '-payload_type', String(AUDIO_PT), '-ssrc', String(ssrc.audio),
		'-f', 'rtp', out(ports.audio)
	], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function producerRtp(kind: 'video' | 'audio', ssrc: number): types.RtpParameters {
	return kind === 'video'
		? {
				codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000 }],
				encodings: [{ ssrc }]
			}
		: {
				codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }],
				encodings: [{ ssrc }]
			};
}

const srtpParameters = (): types.SrtpParameters => ({
	cryptoSuite: SRTP_SUITE,
	keyBase64: randomBytes(30).toString('base64')
});

/** Baseline: bare mediasoup, none of our code. */
async function bareSystem(ssrc: { video: number; audio: number }): Promise<System> {
	const worker = await mediasoup.createWorker({ logLevel: 'warn' });
	const router = await worker.createRouter({ mediaCodecs });
	const producers: types.Producer[] = [];
	const ports = {} as System['publisherPorts'];
	for (const kind of ['video', 'audio'] as const) {
		const t = await router.createPlainTransport({
			listenIp: '127.0.0.1',
			rtcpMux: false,
			comedia: true
		});
		producers.push(await t.produce({ kind, rtpParameters: producerRtp(kind, ssrc[kind]) }));
		ports[kind] = { rtp: t.tuple.localPort, rtcp: t.rtcpTuple!.localPort };
	}
	return {
		workers: [worker],
		publisherPorts: ports,
		async addViewer(_index, sinkPort) {
			const t = await router.createPlainTransport({
				listenIp: '127.0.0.1',
				rtcpMux: true,
				enableSrtp: true,
				srtpCryptoSuite: SRTP_SUITE
			});
			await t.connect({ ip: '127.0.0.1', port: sinkPort, srtpParameters: srtpParameters() });
			return Promise.all(
				producers.map((p) =>
					t.consume({ producerId: p.id, rtpCapabilities: router.rtpCapabilities })
				)
			);
		},
		async close() {
			worker.close();
		}
	};
}

/** Our layer: media-server's ClassRoom, viewers placed by its router policy. */
async function oursSystem(
	ssrc: { video: number; audio: number },
	numWorkers: number,
	maxConsumersPerRouter: number
): Promise<System> {
	const server = await createMediaServer({
		numWorkers,
		maxConsumersPerRouter,
		listenIp: '127.0.0.1',
		rtcMinPort: 20000,
		rtcMaxPort: 39999
	});
	const room: ClassRoom = await server.getOrCreateRoom('bench');
	room.join('teacher', 'publisher');
	const producerIds: string[] = [];
	const ports = {} as System['publisherPorts'];
	for (const kind of ['video', 'audio'] as const) {
		const t = await room.createPlainTransport('teacher', {
			direction: 'send',
			comedia: true,
			rtcpMux: false
		});
		const { id } = await room.request('teacher', 'produce', {
			transportId: t.id,
			kind,
			rtpParameters: producerRtp(kind, ssrc[kind])
		});
		producerIds.push(id);
		ports[kind] = { rtp: t.tuple.localPort, rtcp: t.rtcpTuple!.localPort };
	}
	const rtpCapabilities = await room.request('teacher', 'getRouterRtpCapabilities', {});
	return {
		workers: await workersOf(server),
		publisherPorts: ports,
		async addViewer(index, sinkPort) {
			const peerId = `viewer-${index}`;
			room.join(peerId, 'viewer');
			const t = await room.createPlainTransport(peerId, { direction: 'recv', enableSrtp: true });
			const consumers: types.Consumer[] = [];
			t.observer.on('newconsumer', (c) => consumers.push(c));
			await t.connect({ ip: '127.0.0.1', port: sinkPort, srtpParameters: srtpParameters() });
			for (const producerId of producerIds) {
				const { id } = await room.request(peerId, 'consume', {
					transportId: t.id,
					producerId,
					rtpCapabilities
				});
				await room.request(peerId, 'resumeConsumer', { consumerId: id });
			}
			return consumers;
		},
		close: () => server.close()
	};
}

/** The pool keeps its workers private; mediasoup's observer names them as they start. */
async function workersOf(server: Awaited<ReturnType<typeof createMediaServer>>) {
	const pids = new Set((await server.getWorkerStats()).map((w) => w.pid));
	return [...liveWorkers].filter((w) => pids.has(w.pid) && !w.closed);
}
const liveWorkers = new Set<types.Worker>();
mediasoup.observer.on('newworker', (w) => {
	liveWorkers.add(w);
	w.observer.once('close', () => liveWorkers.delete(w));
});

/** A bound UDP socket nobody reads, held by a helper process. */
async function startSink(): Promise<{ port: number; proc: ChildProcess }> {
	const proc = spawn(
		'/usr/bin/python3',
		[
			'-c',
			'import socket,signal\n' +
				's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n' +
				"s.bind(('127.0.0.1',0))\n" +
				'print(s.getsockname()[1],flush=True)\n' +
				'signal.pause()'
		],
		{ stdio: ['ignore', 'pipe', 'inherit'] }
	);
	const [chunk] = (await once(proc.stdout!, 'data')) as [Buffer];
	return { port: Number(chunk.toString().trim()), proc };
}

interface Sample {
	socket: dgram.Socket;
	packets: number;
}

async function startSample(): Promise<Sample> {
	const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
	const sample: Sample = { socket, packets: 0 };
	socket.on('message', () => sample.packets++);
	await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
	return sample;
}

interface Counters {
	sent: number;
	expected: number;
}

async function consumerCounters(consumers: types.Consumer[]): Promise<Counters> {
	const stats = await Promise.all(consumers.map((c) => c.getStats()));
	const total = { sent: 0, expected: 0 };
	for (const list of stats) {
		for (const s of list) {
			if (s.type === 'outbound-rtp') total.sent += s.packetCount;
			if (s.type === 'inbound-rtp') total.expected += s.packetCount + s.packetsLost;
		}
	}
	return total;
}

async function cpuTimes(workers: types.Worker[]): Promise<number[]> {
	const usage = await Promise.all(workers.map((w) => w.getResourceUsage()));
	return usage.map((u) => u.ru_utime + u.ru_stime);
}

async function runScenario(
	name: string,
	make: (ssrc: { video: number; audio: number }) => Promise<System>,
	budgetS: number,
	startAt = STEP
): Promise<ScenarioResult> {
	log(`--- ${name}`);
	const ssrc = { video: 11111111, audio: 22222222 };
	const system = await make(ssrc);
	const ffmpeg = streamClip(system.publisherPorts, ssrc);
	const sink = await startSink();
	const samples = await Promise.all(Array.from({ length: SAMPLE_VIEWERS }, startSample));
	const consumers: types.Consumer[] = [];
	const sampleConsumers: types.Consumer[] = [];
	const deadline = Date.now() + budgetS * 1000;
	const steps: Step[] = [];
	let stoppedBy = `max ${MAX_VIEWERS} viewers`;
	let viewers = 0;
	try {
		const measure = async (target: number): Promise<Step> => {
			while (viewers < target) {
				const batch = Array.from({ length: Math.min(25, target - viewers) }, (_, i) => viewers + i);
				const made = await Promise.all(
					batch.map((i) => {
						const sample = samples[i];
						const port = sample ? (sample.socket.address().port as number) : sink.port;
						return system.addViewer(i, port).then((cs) => ({ i, cs }));
					})
				);
				for (const { i, cs } of made)
					(i < SAMPLE_VIEWERS ? sampleConsumers : consumers).push(...cs);
				viewers += batch.length;
			}
			await sleep(WARMUP_MS);

			// The sampled consumers' counters are read right next to the receive
			// counts; reading a thousand other consumers takes long enough to skew them.
			const before = await consumerCounters(consumers);
			const sampleBefore = await consumerCounters(sampleConsumers);
			const rxBefore = samples.reduce((n, s) => n + s.packets, 0);
			const cpu0 = await cpuTimes(system.workers);
			const t0 = performance.now();
			await sleep(WINDOW_MS);
			const cpu1 = await cpuTimes(system.workers);
			const elapsed = performance.now() - t0;
			const sampleAfter = await consumerCounters(sampleConsumers);
			const rxAfter = samples.reduce((n, s) => n + s.packets, 0);
			const after = await consumerCounters(consumers);

			const sent = after.sent - before.sent + (sampleAfter.sent - sampleBefore.sent);
			const expected =
				after.expected - before.expected + (sampleAfter.expected - sampleBefore.expected);
			const loss = expected > 0 ? Math.max(0, 1 - sent / expected) : 1;
			// Samples count what reached a socket against what their consumers sent.
			const sampleSent = sampleAfter.sent - sampleBefore.sent;
			const sampleLoss = sampleSent > 0 ? Math.max(0, 1 - (rxAfter - rxBefore) / sampleSent) : 1;
			const cpu = cpu1.map((c, i) => (c - cpu0[i]!) / elapsed);
			return { viewers, loss, sampleLoss, cpu };
		};

		for (let target = startAt; target <= MAX_VIEWERS; target += STEP) {
			// A worker pinned at 100% answers its channel late; past the budget
			// (plus grace) the step is abandoned rather than waited for.
			const pending = measure(target);
			const timer = new AbortController();
			const timeout = sleep(Math.max(0, deadline - Date.now()) + 10_000, undefined, {
				signal: timer.signal
			}).then(
				() => undefined,
				() => undefined
			);
			const result = await Promise.race([pending, timeout]);
			timer.abort();
			if (!result) {
				pending.catch(() => undefined);
				stoppedBy = 'stalled: worker too busy to answer';
				break;
			}
			const { loss, sampleLoss, cpu } = result;
			steps.push(result);
			log(
				`${name} viewers=${String(result.viewers).padStart(4)} loss=${pct(loss)} ` +
					`sample-rx-loss=${pct(sampleLoss)} worker-cpu=${cpu.map(pct).join('+')}`
			);
			if (loss > MAX_LOSS) {
				stoppedBy = 'loss > 1%';
				break;
			}
			if (cpu.every((c) => c >= CPU_SATURATED)) {
				stoppedBy = 'CPU saturated';
				break;
			}
			if (Date.now() > deadline) {
				stoppedBy = `time budget ${budgetS} s`;
				break;
			}
		}
	} finally {
		ffmpeg.kill('SIGKILL');
		sink.proc.kill('SIGKILL');
		for (const s of samples) s.socket.close();
		await system.close();
	}
	return { name, workers: system.workers.length, steps, stoppedBy };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Highest step at <=1% loss below CPU saturation, and its worker CPU per 100
 * viewers; `endToEnd` also requires the sampled receivers to see <=1% loss.
 */
function summarize(r: ScenarioResult) {
	const fits = (s: Step) => s.loss <= MAX_LOSS && !s.cpu.every((c) => c >= CPU_SATURATED);
	const best = r.steps.filter(fits).at(-1);
	const endToEnd = r.steps.filter((s) => fits(s) && s.sampleLoss <= MAX_LOSS).at(-1);
	const cpuPer100 = (s: Step | undefined) =>
		s ? (s.cpu.reduce((a, b) => a + b, 0) / s.viewers) * 100 : NaN;
	return {
		name: r.name,
		viewers: best?.viewers ?? 0,
		endToEndViewers: endToEnd?.viewers ?? 0,
		cpuPer100: cpuPer100(best),
		perWorker: best?.cpu.map(pct).join(' + ') ?? '-',
		stoppedBy: r.stoppedBy
	};
}

async function main() {
	const started = Date.now();
	log(
		`${os.cpus().length} cores, mediasoup ${mediasoup.version}, step ${STEP}, window ${WINDOW_MS} ms`
	);
	await encodeClip();
	const bare = await runScenario('bare', bareSystem, BUDGET_S);
	const ours1 = await runScenario('ours-1w', (s) => oursSystem(s, 1, 1_000_000), BUDGET_S);
	// Fill the first router to the one-worker capacity, then pipe to the second.
	const perWorker = Math.max(STEP, summarize(ours1).viewers);
	const ours2 = await runScenario(
		'ours-2w',
		(s) => oursSystem(s, 2, perWorker * 2),
		Math.round(BUDGET_S * 1.3),
		perWorker
	);

	const rows = [bare, ours1, ours2].map(summarize);
	log('=== results (viewer = SRTP PlainTransport with VP8 720p 1.2 Mbit/s + Opus consumers)');
	for (const r of rows) {
		log(
			`${r.name.padEnd(8)} viewers at <=1% loss: ${String(r.viewers).padStart(4)} ` +
				`(also <=1% at sampled receivers: ${String(r.endToEndViewers).padStart(4)})  ` +
				`worker CPU per 100 viewers: ${pct(r.cpuPer100)} of a core ` +
				`(workers at that step: ${r.perWorker})  stopped by: ${r.stoppedBy}`
		);
	}
	const [b, o1, o2] = rows;
	log(
		`ratio ours-1w/bare: viewers ${(o1!.viewers / b!.viewers).toFixed(2)}, ` +
			`CPU per viewer ${(o1!.cpuPer100 / b!.cpuPer100).toFixed(2)}`
	);
	log(`ratio ours-2w/ours-1w viewers: ${(o2!.viewers / o1!.viewers).toFixed(2)}`);
	log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await main();
