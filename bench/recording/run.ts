/**
 * Recording cost bench (loopback only, bounded): CPU and memory of 1 and 4
 * simultaneous classes while live, unrecorded vs recorded (RTP copy into
 * Matroska), in the same run; then the finalization time of a synthesized
 * 10-minute class. See README.md.
 *
 *   npx tsx bench/recording/run.ts [--seconds 20] [--finalize-minutes 10]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	ClassRecorder,
	createMediaServer,
	finalizeRecording,
	PortAllocator,
	writeManifest,
	type ClassRoom,
	type MediaServer,
	type RecordingManifest
} from '../../media-server/src/index.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 20);
const FINALIZE_MINUTES = arg('finalize-minutes', 10);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-recording-'));
const CLK = 100; // USER_HZ on Linux

function ffmpeg(argv: string[]): void {
	execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...argv], {
		stdio: 'inherit'
	});
}

/** A 30 s VP8 640x480 + Opus clip, published in a loop with -c copy (publishers cost ~nothing). */
function sourceClip(): string {
	const file = path.join(work, 'source.webm');
	ffmpeg([
		'-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=30',
		'-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
		'-t', '30', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1200k',
		'-g', '60', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k', file
	]); // prettier-ignore
	return file;
}

async function publish(room: ClassRoom, clip: string): Promise<ChildProcess> {
	const peerId = 'teacher';
	room.join(peerId, 'publisher');
	const transports = [];
	const ssrcs = { video: 1111, audio: 2222 };
	for (const kind of ['video', 'audio'] as const) {
		const transport = await room.createPlainTransport(peerId, {
			direction: 'send',
			comedia: true,
			rtcpMux: false
		});
		await room.request(peerId, 'produce', {
			transportId: transport.id,
			kind,
			rtpParameters: {
				codecs: [
					kind === 'video'
						? { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }
						: { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }
				],
				encodings: [{ ssrc: ssrcs[kind] }]
			}
		});
		transports.push(transport);
	}
	const [v, a] = transports;
	const url = (t: typeof v) =>
		`rtp://127.0.0.1:${t!.tuple.localPort}?rtcpport=${t!.rtcpTuple?.localPort}&pkt_size=1200`;
	return spawn(
		'ffmpeg',
		[
			'-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip,
			'-map', '0:v', '-c', 'copy', '-payload_type', '101', '-ssrc', String(ssrcs.video), '-f', 'rtp', url(v),
			'-map', '0:a', '-c', 'copy', '-payload_type', '100', '-ssrc', String(ssrcs.audio), '-f', 'rtp', url(a)
		], // prettier-ignore
		{ stdio: ['ignore', 'ignore', 'inherit'] }
	);
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

function rssMb(pid: number): number {
	try {
		const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
		return m ? Number(m[1]) / 1024 : 0;
	} catch {
		return 0;
	}
}

function childPids(pid: number, pattern: RegExp): number[] {
	const out: number[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
			if (ppid === pid && pattern.test(cmd)) out.push(Number(entry));
		} catch {
			// Gone.
		}
	}
	return out;
}

type Sample = { cpuPercent: number; rssMb: number };

/** CPU (% of one core) and mean RSS of the processes over `seconds`. */
async function measure(pids: () => number[], seconds: number): Promise<Sample> {
	const start = new Map(pids().map((p) => [p, cpuTicks(p)]));
	const t0 = Date.now();
	const rss: number[] = [];
	while (Date.now() - t0 < seconds * 1000) {
		await new Promise((r) => setTimeout(r, 1000));
		rss.push(pids().reduce((sum, p) => sum + rssMb(p), 0));
	}
	let ticks = 0;
	for (const p of pids()) ticks += cpuTicks(p) - (start.get(p) ?? 0);
	const elapsed = (Date.now() - t0) / 1000;
	return {
		cpuPercent: Math.round((ticks / CLK / elapsed) * 1000) / 10,
		rssMb: Math.round(rss.reduce((a, b) => a + b, 0) / rss.length)
	};
}

async function livePhase(
	server: MediaServer,
	clip: string,
	classes: number,
	record: boolean
): Promise<Record<string, unknown>> {
	const publishers: ChildProcess[] = [];
	const recorders: ClassRecorder[] = [];
	const rooms: ClassRoom[] = [];
	const ports = new PortAllocator(47000, 47999);
	for (let i = 0; i < classes; i++) {
		const room = await server.getOrCreateRoom(`bench-${classes}-${record}-${i}`);
		rooms.push(room);
		publishers.push(await publish(room, clip));
		if (record) {
			recorders.push(
				await ClassRecorder.start(room, {
					recordingId: `r${i}`,
					dir: path.join(work, `live-${classes}-${i}`),
					ports
				})
			);
		}
	}
	await new Promise((r) => setTimeout(r, 3000)); // settle: segments started
	const workerPids = (await server.getWorkerStats()).map((w) => w.pid);
	const recorderPids = () => childPids(process.pid, /\.sdp/);
	const [workers, ffmpegs, node] = await Promise.all([
		measure(() => workerPids, SECONDS),
		measure(recorderPids, SECONDS),
		measure(() => [process.pid], SECONDS)
	]);
	let bytes = 0;
	for (const r of recorders) {
		await r.stop();
		for (const s of r.manifest.segments) {
			bytes += fs.statSync(path.join(work, `live-${classes}-${recorders.indexOf(r)}`, s.file)).size;
		}
	}
	for (const p of publishers) p.kill('SIGKILL');
	for (const room of rooms) room.close();
	const result = {
		classes,
		recorded: record,
		workerCpuPercent: workers.cpuPercent,
		workerRssMb: workers.rssMb,
		recorderFfmpegCpuPercent: ffmpegs.cpuPercent,
		recorderFfmpegRssMb: ffmpegs.rssMb,
		nodeCpuPercent: node.cpuPercent,
		nodeRssMb: node.rssMb,
		totalCpuPercent:
			Math.round((workers.cpuPercent + ffmpegs.cpuPercent + node.cpuPercent) * 10) / 10,
		recordedMbPerClassPerMinute: record
			? Math.round((bytes / 1e6 / classes / (SECONDS + 3)) * 60 * 10) / 10
			: null
	};
	console.log(JSON.stringify(result));
	return result;
}

/** A 10-minute class as the recorder leaves it: camera, screen share, camera; VP8 + Opus in MKV. */
function synthesizeClass(minutes: number): string {
	const dir = path.join(work, 'ten-minutes');
	fs.mkdirSync(dir);
	const parts = [
		{ seconds: minutes * 24, size: '640x480', rate: 30, src: 'testsrc2' },
		{ seconds: minutes * 18, size: '1280x720', rate: 15, src: 'smptebars' },
		{ seconds: minutes * 18, size: '640x480', rate: 30, src: 'testsrc2' }
	];
	const t0 = Date.now() - minutes * 60_000;
	let at = t0;
	const manifest: RecordingManifest = {
		version: 1,
		classId: 'bench',
		recordingId: 'bench',
		startedAt: t0,
		endedAt: t0 + minutes * 60_000,
		segments: []
	};
	parts.forEach((p, i) => {
		const file = `segment-000${i + 1}.mkv`;
		ffmpeg([
			'-f', 'lavfi', '-i', `${p.src}=size=${p.size}:rate=${p.rate}`,
			'-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000',
			'-t', String(p.seconds), '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8',
			'-b:v', '1000k', '-c:a', 'libopus', '-ac', '2', '-b:a', '48k', path.join(dir, file)
		]); // prettier-ignore
		manifest.segments.push({
			seq: i + 1,
			file,
			startedAt: at,
			endedAt: at + p.seconds * 1000,
			video: { producerId: `v${i}`, mimeType: 'video/VP8' },
			audio: { producerId: 'a', mimeType: 'audio/opus' },
			endReason: 'switched'
		});
		at += p.seconds * 1000;
	});
	fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
	return dir;
}

async function main() {
	const results: Record<string, unknown> = {
		when: new Date().toISOString(),
		cpus: os.cpus().length,
		cpuModel: os.cpus()[0]?.model,
		seconds: SECONDS,
		live: [] as unknown[]
	};
	const clip = sourceClip();
	const server = await createMediaServer({
		numWorkers: 1,
		listenIp: '127.0.0.1',
		rtcMinPort: 46500,
		rtcMaxPort: 46999
	});
	try {
		for (const classes of [1, 4]) {
			for (const record of [false, true]) {
				(results.live as unknown[]).push(await livePhase(server, clip, classes, record));
			}
		}
	} finally {
		await server.close();
	}

	const synthStart = Date.now();
	const dir = synthesizeClass(FINALIZE_MINUTES);
	console.log(`synthesized ${FINALIZE_MINUTES} min in ${Date.now() - synthStart} ms`);
	await writeManifest(dir, JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')));
	const progress: string[] = [];
	const t0 = Date.now();
	const result = await finalizeRecording(dir, {
		onProgress: (p) => progress.push(`${p}%@${Math.round((Date.now() - t0) / 1000)}s`)
	});
	results.finalize = {
		classMinutes: FINALIZE_MINUTES,
		finalizeSeconds: Math.round((Date.now() - t0) / 100) / 10,
		outputSeconds: Math.round(result.durationSeconds),
		outputMb: Math.round(result.sizeBytes / 1e5) / 10,
		progressSamples: progress.filter((_, i) => i % 10 === 0).join(' ')
	};
	console.log(JSON.stringify(results.finalize));
	const out = path.join('bench', 'results', `recording-${Date.now()}.json`);
	fs.mkdirSync(path.dirname(out), { recursive: true });
	fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
	console.log(`wrote ${out}`);
	fs.rmSync(work, { recursive: true, force: true });
}

main().catch((error) => {
	console.error(error);
	fs.rmSync(work, { recursive: true, force: true });
	process.exit(1);
});
