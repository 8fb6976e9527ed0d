import fs from 'node:fs/promises';
import path from 'node:path';
import { makePoster, probe, runFfmpeg } from './ffmpeg.js';
import { isHlsOnly, readRuns, type HlsRun } from './hls.js';
import {
	fileStartedAt,
	readManifest,
	type RecordingManifest,
	type RecordingSegmentInfo
} from './manifest.js';
import {
	POSTER_FILE,
	REPLAY_FILE,
	remuxHlsToMp4,
	runStream,
	type TimelineEntry
} from './replay-hls.js';

export interface FinalizeResult {
	/** File names inside the recording folder. */
	file: string;
	poster: string | null;
	durationSeconds: number;
	sizeBytes: number;
	timeline: TimelineEntry[];
	/** Segments left out because FFmpeg could not read them. */
	skipped: number[];
}

export interface FinalizeOptions {
	/** 0-100, rising; called often, so throttle any database writes. */
	onProgress?: (percent: number) => void;
	ffmpegPath?: string;
	ffprobePath?: string;
	width?: number;
	height?: number;
	fps?: number;
	/** libx264 preset; faster presets finalize sooner, with bigger files. */
	preset?: string;
	/** Fallback for segments whose end was never written (a crash). */
	now?: number;
}

/**
 * Turns a recording folder into one MP4 that plays in every browser, plus a
 * poster. An HLS recording (an H.264 class) is remuxed, nothing re-encoded.
 * Otherwise (VP8, or a class that changed codec) each segment is re-encoded
 * to the same size, frame rate and audio layout (H.264 High/AAC; a missing
 * track becomes black or silence), then the pieces are joined without
 * another encode. Unreadable segments are skipped, so what survived a crash
 * still becomes a replay.
 */
export async function finalizeRecording(
	dir: string,
	options: FinalizeOptions = {}
): Promise<FinalizeResult> {
	const manifest = await readManifest(dir);
	if (!manifest) throw new Error(`no recording manifest in ${dir}`);
	if (isHlsOnly(manifest.segments)) return remuxFinalize(dir, options);
	return reencodeFinalize(dir, manifest, options);
}

async function remuxFinalize(dir: string, options: FinalizeOptions): Promise<FinalizeResult> {
	const report = throttle(options.onProgress ?? (() => {}));
	const result = await remuxHlsToMp4(dir, {
		onProgress: (p) => report(Math.min(p, 97)),
		ffmpegPath: options.ffmpegPath
	});
	const poster = path.join(dir, POSTER_FILE);
	const hasPoster =
		(await fs.stat(poster).catch(() => null)) !== null ||
		(await makePoster(
			path.join(dir, result.file),
			poster,
			Math.min(5, result.durationSeconds / 3),
			options.ffmpegPath
		));
	report(100);
	return {
		file: result.file,
		poster: hasPoster ? POSTER_FILE : null,
		durationSeconds: result.durationSeconds,
		sizeBytes: result.sizeBytes,
		timeline: result.timeline,
		skipped: []
	};
}

async function reencodeFinalize(
	dir: string,
	manifest: RecordingManifest,
	options: FinalizeOptions
): Promise<FinalizeResult> {
	const o = {
		ffmpegPath: 'ffmpeg',
		ffprobePath: 'ffprobe',
		width: 1280,
		height: 720,
		fps: 25,
		preset: 'veryfast',
		now: Date.now(),
		...options
	};
	const report = throttle(options.onProgress ?? (() => {}));

	// What is there, and how long each piece is expected to be.
	const inputs: {
		segment: RecordingSegmentInfo;
		hasVideo: boolean;
		hasAudio: boolean;
		estimate: number;
		run?: HlsRun;
	}[] = [];
	const skipped: number[] = [];
	const runs = new Map((await readRuns(dir, manifest)).map((run) => [run.seq, run]));
	for (const segment of manifest.segments) {
		if (segment.format === 'hls') {
			// HLS runs always carry both tracks (a paused one is black or silent).
			const run = runs.get(segment.seq);
			if (!run) skipped.push(segment.seq);
			else {
				const estimate = run.segments.reduce((sum, s) => sum + s.duration, 0);
				inputs.push({ segment, hasVideo: true, hasAudio: true, estimate, run });
			}
			continue;
		}
		const file = path.join(dir, segment.file);
		const stat = await fs.stat(file).catch(() => null);
		const info = stat && stat.size > 0 ? await probe(file, o.ffprobePath) : null;
		const hasVideo = info?.streams.some((s) => s.codecType === 'video') ?? false;
		const hasAudio = info?.streams.some((s) => s.codecType === 'audio') ?? false;
		if (!info || (!hasVideo && !hasAudio)) {
			skipped.push(segment.seq);
			continue;
		}
		const end = segment.endedAt ?? stat?.mtimeMs ?? o.now;
		const estimate = info.durationSeconds ?? Math.max(0.1, (end - segment.startedAt) / 1000);
		inputs.push({ segment, hasVideo, hasAudio, estimate });
	}
	if (inputs.length === 0) throw new Error('the recording has no readable media');
	const total = inputs.reduce((sum, i) => sum + i.estimate, 0);

	const parts: { file: string; segment: RecordingSegmentInfo; duration: number }[] = [];
	let done = 0;
	for (const input of inputs) {
		const out = path.join(dir, `part-${String(input.segment.seq).padStart(4, '0')}.mp4`);
		try {
			await runFfmpeg(
				normalizeArgs(
					input.run ? ['-f', 'mpegts', '-i', 'pipe:0'] : ['-i', path.join(dir, input.segment.file)],
					out,
					input,
					o
				),
				(t) => report((90 * (done + Math.min(t, input.estimate))) / total),
				o.ffmpegPath,
				input.run ? runStream(dir, input.run) : undefined
			);
			const duration = (await probe(out, o.ffprobePath))?.durationSeconds ?? 0;
			if (duration > 0.05) parts.push({ file: out, segment: input.segment, duration });
			else skipped.push(input.segment.seq);
		} catch {
			skipped.push(input.segment.seq);
		}
		done += input.estimate;
		report((90 * done) / total);
	}
	if (parts.length === 0) throw new Error('no segment of the recording could be converted');

	const list = path.join(dir, 'parts.txt');
	await fs.writeFile(
		list,
		parts.map((p) => `file '${path.basename(p.file).replaceAll("'", "'\\''")}'`).join('\n') + '\n'
	);
	const output = path.join(dir, REPLAY_FILE);
	const tmp = path.join(dir, `replay.tmp.mp4`);
	const partsTotal = parts.reduce((sum, p) => sum + p.duration, 0);
	await runFfmpeg(
		[
			'-f',
			'concat',
			'-safe',
			'0',
			'-i',
			list,
			'-map',
			'0',
			'-c',
			'copy',
			'-movflags',
			'+faststart',
			'-f',
			'mp4',
			'-y',
			tmp
		],
		(t) => report(90 + (7 * Math.min(t, partsTotal)) / partsTotal),
		o.ffmpegPath
	);
	await fs.rename(tmp, output);
	report(97);

	const durationSeconds = (await probe(output, o.ffprobePath))?.durationSeconds ?? partsTotal;
	const poster = (await makePoster(
		output,
		path.join(dir, POSTER_FILE),
		Math.min(5, durationSeconds / 3),
		o.ffmpegPath
	))
		? POSTER_FILE
		: null;

	const timeline: TimelineEntry[] = [];
	let videoStart = 0;
	for (const part of parts) {
		timeline.push({
			wallStartMs: fileStartedAt(part.segment) - manifest.startedAt,
			videoStart: round3(videoStart),
			durationSeconds: round3(part.duration)
		});
		videoStart += part.duration;
	}
	for (const part of parts) await fs.rm(part.file, { force: true });
	await fs.rm(list, { force: true });
	const { size } = await fs.stat(output);
	report(100);
	return {
		file: REPLAY_FILE,
		poster,
		durationSeconds,
		sizeBytes: size,
		timeline,
		skipped
	};
}

function normalizeArgs(
	input: string[],
	output: string,
	what: { hasVideo: boolean; hasAudio: boolean },
	o: { width: number; height: number; fps: number; preset: string }
): string[] {
	const { width: w, height: h, fps } = o;
	const args = ['-fflags', '+genpts', ...input];
	let next = 1;
	let videoInput = '0:v:0';
	let audioInput = '0:a:0';
	if (!what.hasVideo) {
		args.push('-f', 'lavfi', '-i', `color=c=black:s=${w}x${h}:r=${fps}`);
		videoInput = `${next++}:v:0`;
	}
	if (!what.hasAudio) {
		args.push('-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo');
		audioInput = `${next}:a:0`;
	}
	const video = [
		'setpts=PTS-STARTPTS',
		`scale=${w}:${h}:force_original_aspect_ratio=decrease`,
		`pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:black`,
		'setsar=1',
		`fps=${fps}`,
		'format=yuv420p'
	].join(',');
	// Real audio is stretched over gaps, and padded when video sets the length
	// so it never ends first; -shortest then cuts at the end of the real media.
	const audio = !what.hasAudio
		? 'aresample=48000'
		: what.hasVideo
			? 'aresample=48000:async=1000:first_pts=0,apad'
			: 'aresample=48000:async=1000:first_pts=0';
	args.push(
		'-map',
		videoInput,
		'-map',
		audioInput,
		'-vf',
		video,
		'-af',
		audio,
		'-shortest',
		'-c:v',
		'libx264',
		'-preset',
		o.preset,
		'-crf',
		'23',
		'-profile:v',
		'high',
		'-g',
		String(fps * 2),
		'-c:a',
		'aac',
		'-b:a',
		'128k',
		'-ac',
		'2',
		'-ar',
		'48000',
		'-video_track_timescale',
		'90000',
		'-f',
		'mp4',
		'-y',
		output
	);
	return args;
}

/** Calls through at most every 500 ms, and always for 100. */
function throttle(fn: (percent: number) => void): (percent: number) => void {
	let last = 0;
	let lastValue = -1;
	return (percent) => {
		const value = Math.max(0, Math.min(100, Math.floor(percent)));
		const now = Date.now();
		if (value === lastValue || (value < 100 && now - last < 500)) return;
		last = now;
		lastValue = value;
		fn(value);
	};
}

function round3(n: number): number {
	return Math.round(n * 1000) / 1000;
}

/** Video time (seconds) for a moment of the live class, from the finalize timeline. */
export function videoTimeAt(timeline: TimelineEntry[], wallMs: number): number {
	for (const entry of timeline) {
		if (wallMs < entry.wallStartMs) return entry.videoStart;
		if (wallMs <= entry.wallStartMs + entry.durationSeconds * 1000) {
			return entry.videoStart + (wallMs - entry.wallStartMs) / 1000;
		}
	}
	const last = timeline.at(-1);
	return last ? last.videoStart + last.durationSeconds : 0;
}

export { POSTER_FILE, REPLAY_FILE, type TimelineEntry };
