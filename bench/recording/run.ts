/**
 * Recording bench (loopback only, bounded). Everything is measured in the
 * same run, on the same input, for our HLS packager against today's path
 * (RTP copied into Matroska, re-encoded when the class ends):
 *
 * 1. CPU and memory while live, 1 and 4 classes: unrecorded, HLS, Matroska.
 * 2. A 10- and a 60-minute class, each as both recorders leave it on disk
 *    (from the same source): from the end of the class to a playable replay,
 *    and to the MP4. A re-encode past --budget seconds is stopped and
 *    projected from its progress.
 *
 *   npx tsx bench/recording/run.ts [--seconds 20] [--minutes 10,60] [--budget 600]
 *
 * See README.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
	ClassRecorder,
	createMediaServer,
	finalizeRecording,
	finishHlsStream,
	PortAllocator,
	probe,
	remuxHlsToMp4,
	type ClassRoom,
	type MediaServer
} from '../../media-server/src/index.ts';

const { values: args } = parseArgs({
	options: {
		seconds: { type: 'string', default: '20' },
		minutes: { type: 'string', default: '10,60' },
		budget: { type: 'string', default: '600' }
	}
});
const SECONDS = Number(args.seconds);
const MINUTES = args.minutes.split(',').map(Number);
const BUDGET = Number(args.budget);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-recording-'));
const CLK = 100; // USER_HZ on Linux
const log = (line: string) => console.log(`[recording] ${line}`);

function ffmpeg(argv: string[]): void {
	execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...argv], {
		stdio: 'inherit'
	});
}

/**
 * 30 s of H.264 constrained baseline 640x480 30 fps ~1.2 Mbit/s in MPEG-TS
 * (parameter sets before every key frame, as a browser sends them; a key frame
 * a second, as the packager asks the browser for) + Opus 64 kbit/s; published
 * in a loop with -c copy, so the publisher costs next to nothing.
 */
function sourceClip(): string {
	const file = path.join(work, 'source.ts');
	ffmpeg([
		'-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=30',
		'-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
		'-t', '30', '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline',
		'-pix_fmt', 'yuv420p', '-b:v', '1200k', '-maxrate', '1200k', '-bufsize', '1200k',
		'-g', '30', '-bf', '0', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k', file
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
		transports.push(transport);
	}
	const [v, a] = transports;
	const url = (t: typeof v) =>
		`rtp://127.0.0.1:${t!.tuple.localPort}?rtcpport=${t!.rtcpTuple?.localPort}&pkt_size=1200`;
	return spawn(
		'ffmpeg',
		[
			'-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip,
			'-map', '0:v', '-c', 'copy', '-payload_type', '102', '-ssrc', String(ssrcs.video), '-f', 'rtp', url(v),
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

type Mode = 'none' | 'hls' | 'matroska';

async function livePhase(server: MediaServer, clip: string, classes: number, mode: Mode) {
	const publishers: ChildProcess[] = [];
	const recorders: ClassRecorder[] = [];
	const rooms: ClassRoom[] = [];
	const ports = new PortAllocator(47000, 47999);
	for (let i = 0; i < classes; i++) {
		const room = await server.getOrCreateRoom(`bench-${classes}-${mode}-${i}`);
		rooms.push(room);
		publishers.push(await publish(room, clip));
		if (mode !== 'none') {
			recorders.push(
				await ClassRecorder.start(room, {
					recordingId: `r${i}`,
					dir: path.join(work, `live-${classes}-${mode}-${i}`),
					ports,
					hls: mode === 'hls'
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
	for (const r of recorders) await r.stop();
	let bytes = 0;
	for (let i = 0; i < recorders.length; i++) {
		bytes += Number(
			execFileSync('du', ['-sb', path.join(work, `live-${classes}-${mode}-${i}`)])
				.toString()
				.split('\t')[0]
		);
	}
	for (const p of publishers) p.kill('SIGKILL');
	for (const room of rooms) room.close();
	const result = {
		classes,
		recorded: mode,
		workerCpuPercent: workers.cpuPercent,
		recorderFfmpegCpuPercent: ffmpegs.cpuPercent,
		recorderFfmpegRssMb: ffmpegs.rssMb,
		nodeCpuPercent: node.cpuPercent,
		totalCpuPercent:
			Math.round((workers.cpuPercent + ffmpegs.cpuPercent + node.cpuPercent) * 10) / 10,
		diskMbPerClassPerMinute:
			mode === 'none' ? null : Math.round((bytes / 1e6 / classes / (SECONDS + 3)) * 60 * 10) / 10
	};
	log(JSON.stringify(result));
	return result;
}

/** Kills this process's FFmpegs whose command line matches (a baseline past its budget). */
function killChildren(pattern: RegExp): void {
	for (const pid of childPids(process.pid, pattern)) process.kill(pid, 'SIGKILL');
}

/**
 * A class of `minutes` as each recorder leaves it on disk, from the same
 * source: camera, screen share, camera (40/30/30 %), i.e. three HLS runs
 * (H.264 copied, AAC) for ours and three Matroska segments (RTP copied) for
 * today's path. Synthesized with FFmpeg at full speed: fed as RTP, the
 * recorders follow the RTCP wall clock, so only real time would do, and an
 * hour of that does not fit a bench.
 */
function synthesizeClass(clip: string, minutes: number) {
	const dirs = {
		hls: path.join(work, `hls-${minutes}`),
		matroska: path.join(work, `mkv-${minutes}`)
	};
	const source = path.join(work, `source-${minutes}.ts`);
	ffmpeg([
		'-stream_loop',
		'-1',
		'-i',
		clip,
		'-map',
		'0',
		'-c',
		'copy',
		'-t',
		String(minutes * 60),
		source
	]);
	const t0 = Date.now() - minutes * 60_000;
	const parts = [0.4, 0.3, 0.3].map((share) => share * minutes * 60);
	const manifest = (format: 'hls' | 'mkv') => ({
		version: 1,
		classId: 'bench',
		recordingId: format,
		startedAt: t0,
		endedAt: t0 + minutes * 60_000,
		segments: [] as Record<string, unknown>[]
	});
	const hls = manifest('hls');
	const mkv = manifest('mkv');
	let offset = 0;
	parts.forEach((seconds, i) => {
		const name = String(i + 1).padStart(4, '0');
		const range = ['-ss', String(offset), '-t', String(seconds), '-i', source];
		const runDir = path.join(dirs.hls, `run-${name}`);
		fs.mkdirSync(runDir, { recursive: true });
		fs.mkdirSync(dirs.matroska, { recursive: true });
		ffmpeg([
			...range, '-map', '0', '-c:v', 'copy', '-c:a', 'aac', '-aac_coder', 'fast', '-b:a', '96k', '-ar', '48000', '-ac', '2',
			'-f', 'hls', '-hls_time', '1', '-hls_list_size', '0', '-hls_playlist_type', 'event',
			'-hls_segment_filename', path.join(runDir, 'seg-%05d.ts'), path.join(runDir, 'stream.m3u8')
		]); // prettier-ignore
		ffmpeg([...range, '-map', '0', '-c', 'copy', '-f', 'matroska', path.join(dirs.matroska, `segment-${name}.mkv`)]); // prettier-ignore
		const common = {
			seq: i + 1,
			startedAt: t0 + offset * 1000,
			endedAt: t0 + (offset + seconds) * 1000,
			video: { producerId: `v${i}`, mimeType: 'video/H264' },
			audio: { producerId: 'a', mimeType: 'audio/opus' },
			endReason: i === 2 ? 'stopped' : 'switched'
		};
		hls.segments.push({ ...common, format: 'hls', file: `run-${name}/stream.m3u8` });
		mkv.segments.push({ ...common, format: 'mkv', file: `segment-${name}.mkv` });
		offset += seconds;
	});
	fs.writeFileSync(path.join(dirs.hls, 'manifest.json'), JSON.stringify(hls));
	fs.writeFileSync(path.join(dirs.matroska, 'manifest.json'), JSON.stringify(mkv));
	fs.rmSync(source);
	return dirs;
}

/**
 * From the end of the class: ours (HLS) to a playable replay (ENDLIST,
 * poster) and to the remuxed MP4; today's path to its re-encoded MP4, which
 * is also when its replay becomes playable. A re-encode past `budget`
 * seconds is stopped and projected from its progress.
 */
async function endOfClass(clip: string, minutes: number, budget: number) {
	const dirs = synthesizeClass(clip, minutes);
	let t0 = Date.now();
	const stream = await finishHlsStream(dirs.hls);
	const playableMs = Date.now() - t0;
	const mp4 = await remuxHlsToMp4(dirs.hls);
	const mp4Ms = Date.now() - t0;
	log(`${minutes} min, ours: playable after ${playableMs} ms, MP4 after ${mp4Ms} ms`);

	t0 = Date.now();
	let progress = 0;
	const reencode = finalizeRecording(dirs.matroska, { onProgress: (p) => (progress = p) }).then(
		(r) => r.durationSeconds
	);
	const outcome = await Promise.race([
		reencode,
		new Promise<null>((resolve) => setTimeout(() => resolve(null), budget * 1000))
	]);
	const elapsed = (Date.now() - t0) / 1000;
	if (outcome === null) {
		killChildren(/libx264|concat/);
		reencode.catch(() => undefined);
	}
	const today =
		outcome === null
			? {
					mp4Seconds: null,
					stoppedAtSeconds: Math.round(elapsed),
					progressPercent: progress,
					projectedSeconds: progress > 0 ? Math.round(elapsed / (progress / 100)) : null
				}
			: { mp4Seconds: Math.round(elapsed * 10) / 10 };
	log(`${minutes} min, today: ${JSON.stringify(today)}`);
	const result = {
		classMinutes: minutes,
		ours: {
			playableSeconds: playableMs / 1000,
			mp4Seconds: mp4Ms / 1000,
			streamSeconds: Math.round(stream.durationSeconds),
			mp4DurationSeconds: Math.round(
				(await probe(path.join(dirs.hls, mp4.file)))?.durationSeconds ?? 0
			)
		},
		today
	};
	for (const dir of Object.values(dirs)) fs.rmSync(dir, { recursive: true, force: true });
	return result;
}

async function main() {
	const results: Record<string, unknown> = {
		when: new Date().toISOString(),
		cpus: os.cpus().length,
		cpuModel: os.cpus()[0]?.model,
		loadAverage: os.loadavg(),
		seconds: SECONDS,
		reencodeBudgetSeconds: BUDGET
	};
	const clip = sourceClip();
	const server = await createMediaServer({
		numWorkers: 1,
		listenIp: '127.0.0.1',
		rtcMinPort: 46500,
		rtcMaxPort: 46999
	});
	const live = [];
	const classes = [];
	try {
		for (const n of [1, 4]) {
			for (const mode of ['none', 'hls', 'matroska'] as const) {
				live.push(await livePhase(server, clip, n, mode));
			}
		}
	} finally {
		await server.close();
	}
	for (const minutes of MINUTES) classes.push(await endOfClass(clip, minutes, BUDGET));
	results.live = live;
	results.endOfClass = classes;

	console.log('\nCPU while live (% of one core; recorder = its FFmpegs, plus the worker and Node)');
	console.log(
		'classes | recorded | worker | recorder FFmpeg | total | FFmpeg RSS | disk MB/min/class'
	);
	for (const r of live) {
		console.log(
			`${r.classes} | ${r.recorded} | ${r.workerCpuPercent} | ${r.recorderFfmpegCpuPercent} | ` +
				`${r.totalCpuPercent} | ${r.recorderFfmpegRssMb} MB | ${r.diskMbPerClassPerMinute ?? '-'}`
		);
	}
	console.log('\nEnd of class → playable replay, → MP4 (seconds): ours (HLS) vs today (re-encode)');
	for (const c of classes) {
		const today =
			c.today.mp4Seconds !== null
				? `${c.today.mp4Seconds} (both)`
				: `> ${c.today.stoppedAtSeconds} (stopped at ${c.today.progressPercent} %, ` +
					`projected ${c.today.projectedSeconds ?? '?'})`;
		console.log(
			`${c.classMinutes} min | ours ${c.ours.playableSeconds} → ${c.ours.mp4Seconds} ` +
				`(stream ${c.ours.streamSeconds} s, MP4 ${c.ours.mp4DurationSeconds} s) | today ${today}`
		);
	}
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
