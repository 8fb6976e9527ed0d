/**
 * Viewers one box serves: WebRTC only (the baseline) against WebRTC up to a
 * cap plus the overflow on HLS, in the same run. Loopback only; bounded by
 * --budget.
 *
 * - The class: an H.264 720p ~1.2 Mbit/s + Opus publisher (a clip looped with
 *   -c copy), recorded by the HLS packager as in production.
 * - WebRTC viewers: SRTP PlainTransport consumers (the worker encrypts every
 *   packet, as for a browser) sending to a socket nobody reads. Served while
 *   loss, from mediasoup's own counters, stays ≤ 1%.
 * - HLS viewers: lightweight HTTP clients (hls-clients.ts) that follow the
 *   live playlist as a player does, against the app's HLS serving code with
 *   its per-request access check (hls-origin.ts). Served while 99% of
 *   segments arrive within a segment's duration of being listed, and the
 *   WebRTC viewers still see ≤ 1% loss.
 *
 * Run: npx tsx bench/viewers-per-box/run.ts [--step 100] [--max 1500] [--hls 100,200,400,800,1600,3200] [--budget 600]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { types } from 'mediasoup';
import {
	ClassRecorder,
	createMediaServer,
	PortAllocator,
	type ClassRoom,
	type MediaServer
} from '../../media-server/src/index.ts';
import { createSession, SESSION_COOKIE } from '../../src/lib/server/auth/session.ts';
import { openPGlite } from '../../src/lib/server/db/adapter.ts';
import { PrismaClient, type Prisma } from '../../src/lib/server/db/generated/client.ts';
import { ACCOUNTS, LIVE_CLASS_TITLE } from '../../tests/support/live.ts';

const { values: args } = parseArgs({
	options: {
		step: { type: 'string', default: '100' },
		max: { type: 'string', default: '1500' },
		hls: { type: 'string', default: '100,200,400,800,1600,3200' },
		window: { type: 'string', default: '2500' },
		'hls-window': { type: 'string', default: '12' },
		budget: { type: 'string', default: '600' }
	}
});
const STEP = Number(args.step);
const MAX = Number(args.max);
const HLS_STEPS = args.hls.split(',').map(Number);
const WINDOW_MS = Number(args.window);
const HLS_WINDOW_S = Number(args['hls-window']);
const MAX_LOSS = 0.01;
const MIN_ON_TIME = 0.99;
const ROOT = path.resolve(import.meta.dirname, '../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'viewers-per-box-'));
const children: ChildProcess[] = [];
const log = (line: string) => console.log(`[viewers-per-box] ${line}`);
setTimeout(
	() => {
		console.error(`viewers-per-box: over the ${args.budget} s budget, giving up`);
		for (const child of children) child.kill('SIGKILL');
		process.exit(2);
	},
	Number(args.budget) * 1000
).unref();

/** A migrated, seeded PGlite; the seeded live class gets a recording whose stream we write. */
async function prepare(): Promise<{
	pgliteDir: string;
	recordingsDir: string;
	classId: string;
	recordingId: string;
	dir: string;
	cookie: string;
}> {
	const pgliteDir = path.join(work, 'db');
	const recordingsDir = path.join(work, 'recordings');
	const env = { ...process.env, DATABASE_URL: '', PGLITE_DIR: pgliteDir };
	execFileSync('npx', ['prisma', 'migrate', 'deploy'], { cwd: ROOT, env, stdio: 'pipe' });
	execFileSync('npx', ['tsx', 'prisma/seed.ts'], { cwd: ROOT, env, stdio: 'pipe' });
	const pglite = await openPGlite(pgliteDir);
	const db = new PrismaClient({
		adapter: new PrismaPGlite(pglite) as unknown as NonNullable<
			Prisma.PrismaClientOptions['adapter']
		>
	});
	try {
		const cls = await db.policyClass.findFirstOrThrow({ where: { title: LIVE_CLASS_TITLE } });
		await db.policyClass.update({ where: { id: cls.id }, data: { status: 'LIVE' } });
		const viewer = await db.user.findFirstOrThrow({ where: { phone: ACCOUNTS.taxpayer1 } });
		const { token } = await createSession(db, viewer.id, 30);
		const recordingId = randomUUID();
		const dir = path.join(cls.id, recordingId);
		await db.recording.create({
			data: {
				id: recordingId,
				classId: cls.id,
				dir,
				playlistPath: path.join(dir, 'index.m3u8')
			}
		});
		return {
			pgliteDir,
			recordingsDir,
			classId: cls.id,
			recordingId,
			dir,
			cookie: `${SESSION_COOKIE}=${token}`
		};
	} finally {
		await db.$disconnect();
		await pglite.close();
	}
}

function clip(): string {
	const file = path.join(work, 'clip.ts');
	// prettier-ignore
	execFileSync('ffmpeg', [
		'-hide_banner', '-loglevel', 'error', '-y',
		'-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
		'-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
		'-t', '10', '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline',
		'-pix_fmt', 'yuv420p', '-b:v', '1200k', '-maxrate', '1200k', '-bufsize', '1200k',
		'-g', '30', '-bf', '0', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k', file
	]);
	return file;
}

async function publish(room: ClassRoom, file: string): Promise<string[]> {
	room.join('teacher', 'publisher');
	const ids: string[] = [];
	const urls: string[] = [];
	const ssrcs = { video: 1111, audio: 2222 };
	for (const kind of ['video', 'audio'] as const) {
		const t = await room.createPlainTransport('teacher', {
			direction: 'send',
			comedia: true,
			rtcpMux: false
		});
		const { id } = await room.request('teacher', 'produce', {
			transportId: t.id,
			kind,
			rtpParameters: {
				codecs: [
					kind === 'video'
						? {
								mimeType: 'video/H264',
								payloadType: 102,
								clockRate: 90000,
								parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' }
							}
						: { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }
				],
				encodings: [{ ssrc: ssrcs[kind] }]
			}
		});
		ids.push(id);
		urls.push(
			`rtp://127.0.0.1:${t.tuple.localPort}?rtcpport=${t.rtcpTuple!.localPort}&pkt_size=1200`
		);
	}
	// prettier-ignore
	children.push(spawn('ffmpeg', [
		'-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file,
		'-map', '0:v', '-c', 'copy', '-payload_type', '102', '-ssrc', '1111', '-f', 'rtp', urls[0]!,
		'-map', '0:a', '-c', 'copy', '-payload_type', '100', '-ssrc', '2222', '-f', 'rtp', urls[1]!
	], { stdio: ['ignore', 'ignore', 'inherit'] }));
	return ids;
}

/** A bound UDP socket nobody reads, held by a helper process (the kernel drops what arrives). */
async function startSink(): Promise<number> {
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
	children.push(proc);
	const [chunk] = (await once(proc.stdout!, 'data')) as [Buffer];
	return Number(chunk.toString().trim());
}

type WebRtcViewers = {
	consumers: types.Consumer[];
	peers: string[];
	add(count: number): Promise<void>;
	clear(): void;
};

function webRtcViewers(room: ClassRoom, producerIds: string[], sinkPort: number): WebRtcViewers {
	const viewers: WebRtcViewers = {
		consumers: [],
		peers: [],
		async add(count) {
			const rtpCapabilities = await room.request('teacher', 'getRouterRtpCapabilities', {});
			for (let made = 0; made < count; made += 25) {
				await Promise.all(
					Array.from({ length: Math.min(25, count - made) }, async () => {
						const peerId = `viewer-${randomUUID()}`;
						room.join(peerId, 'viewer');
						viewers.peers.push(peerId);
						const t = await room.createPlainTransport(peerId, {
							direction: 'recv',
							enableSrtp: true
						});
						t.observer.on('newconsumer', (c) => viewers.consumers.push(c));
						await t.connect({
							ip: '127.0.0.1',
							port: sinkPort,
							srtpParameters: {
								cryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
								keyBase64: randomBytes(30).toString('base64')
							}
						});
						for (const producerId of producerIds) {
							const { id } = await room.request(peerId, 'consume', {
								transportId: t.id,
								producerId,
								rtpCapabilities
							});
							await room.request(peerId, 'resumeConsumer', { consumerId: id });
						}
					})
				);
			}
		},
		clear() {
			for (const peer of viewers.peers) room.leave(peer);
			viewers.peers = [];
			viewers.consumers = [];
		}
	};
	return viewers;
}

/** Loss over a window, from mediasoup's counters: sent to viewers against what the producer got. */
async function counters(consumers: types.Consumer[]) {
	const total = { sent: 0, expected: 0 };
	for (const list of await Promise.all(consumers.map((c) => c.getStats()))) {
		for (const s of list) {
			if (s.type === 'outbound-rtp') total.sent += s.packetCount;
			if (s.type === 'inbound-rtp') total.expected += s.packetCount + s.packetsLost;
		}
	}
	return total;
}

function cpuTicks(pid: number): number {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return Number(fields[11]) + Number(fields[12]);
	} catch {
		return 0;
	}
}

/** Runs `during` while measuring WebRTC loss and CPU (% of a core) of the workers and the origin. */
async function window<T>(
	server: MediaServer,
	viewers: WebRtcViewers,
	originPid: number,
	during: () => Promise<T>
) {
	const workers0 = await server.getWorkerStats();
	const origin0 = cpuTicks(originPid);
	const before = await counters(viewers.consumers);
	const t0 = Date.now();
	const value = await during();
	const after = await counters(viewers.consumers);
	const elapsed = Date.now() - t0;
	const workers1 = await server.getWorkerStats();
	const sent = after.sent - before.sent;
	const expected = after.expected - before.expected;
	return {
		value,
		loss: expected > 0 ? Math.max(0, 1 - sent / expected) : 0,
		workerCpu: workers1.map((w, i) =>
			Math.round(((w.cpuTimeMs - (workers0[i]?.cpuTimeMs ?? 0)) / elapsed) * 100)
		),
		// Ticks are 1/100 s: % of one core.
		originCpu: Math.round(((cpuTicks(originPid) - origin0) * 1000) / elapsed)
	};
}

async function main() {
	const setup = await prepare();
	const server = await createMediaServer({
		numWorkers: 2,
		listenIp: '127.0.0.1',
		rtcMinPort: 20000,
		rtcMaxPort: 39999
	});
	const room = await server.getOrCreateRoom(setup.classId);
	const producerIds = await publish(room, clip());
	const recorder = await ClassRecorder.start(room, {
		recordingId: setup.recordingId,
		dir: path.join(setup.recordingsDir, setup.dir),
		ports: new PortAllocator(40000, 40099)
	});
	await new Promise<void>((resolve) =>
		recorder.on('playlist', ({ segments }) => segments >= 4 && resolve())
	);
	const origin = spawn(
		process.execPath,
		['--import', 'tsx', 'bench/viewers-per-box/hls-origin.ts'],
		{
			cwd: ROOT,
			env: {
				...process.env,
				DATABASE_URL: '',
				PGLITE_DIR: setup.pgliteDir,
				RECORDINGS_DIR: setup.recordingsDir
			},
			stdio: ['ignore', 'pipe', 'inherit']
		}
	);
	children.push(origin);
	const [port] = (await once(readline.createInterface({ input: origin.stdout! }), 'line')) as [
		string
	];
	const playlist = `http://127.0.0.1:${port}/recordings/${setup.recordingId}/hls/live.m3u8`;
	const sinkPort = await startSink();
	const viewers = webRtcViewers(room, producerIds, sinkPort);

	// Baseline: WebRTC only, in steps, until loss passes 1%.
	log('--- WebRTC only');
	const webrtcSteps = [];
	let webrtcOnly = 0;
	for (let target = STEP; target <= MAX; target += STEP) {
		await viewers.add(target - viewers.peers.length);
		await sleep(1500);
		const w = await window(server, viewers, origin.pid!, () => sleep(WINDOW_MS));
		webrtcSteps.push({ viewers: target, loss: w.loss, workerCpu: w.workerCpu });
		log(
			`${target} WebRTC: loss ${(w.loss * 100).toFixed(2)} %, workers ${w.workerCpu.join('/')} %`
		);
		if (w.loss > MAX_LOSS) break;
		webrtcOnly = target;
	}
	viewers.clear();
	await sleep(1000);

	// Ours: WebRTC up to a cap a step below that, the rest over HLS.
	const cap = Math.max(STEP, webrtcOnly - STEP);
	log(`--- WebRTC capped at ${cap}, overflow on HLS`);
	await viewers.add(cap);
	// After the overload, FFmpeg's -re publisher sends what it fell behind on
	// in a burst, which the worker's socket drops: wait until that is over.
	for (let i = 0; i < 20; i++) {
		const settled = await window(server, viewers, origin.pid!, () => sleep(1000));
		if (settled.loss <= MAX_LOSS / 2) break;
	}
	const hlsSteps = [];
	let hlsServed = 0;
	for (const clients of HLS_STEPS) {
		const w = await window(server, viewers, origin.pid!, async () => {
			const child = spawn(
				process.execPath,
				[
					'--import',
					'tsx',
					'bench/viewers-per-box/hls-clients.ts',
					playlist,
					setup.cookie,
					String(clients),
					String(HLS_WINDOW_S)
				],
				{ cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] }
			);
			children.push(child);
			const [line] = (await once(readline.createInterface({ input: child.stdout! }), 'line')) as [
				string
			];
			return JSON.parse(line) as {
				segments: number;
				onTime: number;
				late: number;
				errors: number;
				playlists: number;
				playlistMs: number;
				segmentMs: number;
			};
		});
		const r = w.value;
		const onTimeShare = r.segments > 0 ? r.onTime / r.segments : 0;
		const requests = r.segments + r.playlists;
		const ok =
			onTimeShare >= MIN_ON_TIME &&
			r.errors <= requests * 0.01 &&
			w.loss <= MAX_LOSS &&
			r.segments > 0;
		hlsSteps.push({
			clients,
			onTimeShare,
			...r,
			webrtcLoss: w.loss,
			workerCpu: w.workerCpu,
			originCpu: w.originCpu
		});
		log(
			`${cap} WebRTC + ${clients} HLS: segments on time ${(onTimeShare * 100).toFixed(1)} % ` +
				`(${r.segments}, ${r.errors} errors; playlist ${r.playlistMs} ms, segment ${r.segmentMs} ms), ` +
				`WebRTC loss ${(w.loss * 100).toFixed(2)} %, ` +
				`workers ${w.workerCpu.join('/')} %, origin ${w.originCpu} %`
		);
		if (!ok) break;
		hlsServed = clients;
	}
	viewers.clear();
	await recorder.stop();
	await server.close();

	const result = {
		when: new Date().toISOString(),
		cpus: os.cpus().length,
		loadAverage: os.loadavg(),
		baseline: { webrtcViewers: webrtcOnly, steps: webrtcSteps },
		ours: { webrtcCap: cap, hlsViewers: hlsServed, total: cap + hlsServed, steps: hlsSteps }
	};
	console.log('\nViewers served by one box (2 workers): ours (WebRTC + HLS overflow) vs baseline');
	console.log(`baseline  WebRTC only            ${webrtcOnly} viewers at ≤ 1% loss`);
	console.log(
		`ours      WebRTC ${cap} + HLS ${hlsServed}  ${cap + hlsServed} viewers ` +
			`(HLS: ≥ 99% of segments in time; WebRTC ≤ 1% loss)`
	);
	const out = path.join(ROOT, 'bench', 'results', `viewers-per-box-${Date.now()}.json`);
	fs.mkdirSync(path.dirname(out), { recursive: true });
	fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
	console.log(`wrote ${out}`);
}

main()
	.catch((error) => {
		console.error(error);
		process.exitCode = 1;
	})
	.finally(() => {
		for (const child of children) child.kill('SIGKILL');
		fs.rmSync(work, { recursive: true, force: true });
		process.exit();
	});
