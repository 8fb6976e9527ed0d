import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { makePoster, probe, runFfmpeg } from './ffmpeg.js';
import {
	EVENT_PLAYLIST,
	hlsTimeline,
	readRuns,
	streamSeconds,
	writePlaylists,
	type HlsRun
} from './hls.js';
import { readManifest } from './manifest.js';

export const POSTER_FILE = 'poster.jpg';
export const REPLAY_FILE = 'replay.mp4';

/** Where a stretch of live (wall-clock) time landed in the finished video. */
export interface TimelineEntry {
	/** Ms after the recording started. */
	wallStartMs: number;
	/** Seconds into the finished video. */
	videoStart: number;
	durationSeconds: number;
}

export interface FinishedStream {
	/** Inside the recording folder. */
	playlist: string;
	poster: string | null;
	durationSeconds: number;
	timeline: TimelineEntry[];
}

/**
 * The end of an HLS class: both playlists get #EXT-X-ENDLIST (the stream is
 * the replay from now on), plus a poster from a segment about 5 s in. Takes
 * about a second whatever the class's length: nothing is re-encoded.
 */
export async function finishHlsStream(
	dir: string,
	options: { segmentSeconds?: number; ffmpegPath?: string } = {}
): Promise<FinishedStream> {
	const manifest = await readManifest(dir);
	if (!manifest) throw new Error(`no recording manifest in ${dir}`);
	const runs = await writePlaylists(dir, manifest, {
		segmentSeconds: options.segmentSeconds ?? 1,
		ended: true
	});
	if (runs.length === 0) throw new Error('the recording has no HLS segments');
	const durationSeconds = streamSeconds(runs);
	const at = posterSegment(runs, Math.min(5, durationSeconds / 3));
	const poster = path.join(dir, POSTER_FILE);
	const made = at ? await makePoster(path.join(dir, at), poster, 0, options.ffmpegPath) : false;
	return {
		playlist: EVENT_PLAYLIST,
		poster: made ? POSTER_FILE : null,
		durationSeconds,
		timeline: hlsTimeline(runs, manifest.startedAt)
	};
}

function posterSegment(runs: HlsRun[], atSeconds: number): string | undefined {
	let t = 0;
	const all = runs.flatMap((r) => r.segments);
	for (const segment of all) {
		if (t + segment.duration > atSeconds) return segment.uri;
		t += segment.duration;
	}
	return all.at(-1)?.uri;
}

/** A run's MPEG-TS segments as one continuous stream (they are cut from one muxer). */
export function runStream(dir: string, run: HlsRun): Readable {
	return Readable.from(
		(async function* () {
			for (const segment of run.segments) yield* createReadStream(path.join(dir, segment.uri));
		})()
	);
}

export interface RemuxResult {
	file: string;
	durationSeconds: number;
	sizeBytes: number;
	timeline: TimelineEntry[];
}

/**
 * The downloadable MP4 of an HLS recording, without re-encoding: each run's
 * segments are remuxed (AAC from ADTS to MP4 framing), and runs are joined
 * with the concat demuxer, +faststart. A 2-hour class is a copy of about a
 * gigabyte, well under a minute.
 */
export async function remuxHlsToMp4(
	dir: string,
	options: { onProgress?: (percent: number) => void; ffmpegPath?: string } = {}
): Promise<RemuxResult> {
	const manifest = await readManifest(dir);
	if (!manifest) throw new Error(`no recording manifest in ${dir}`);
	const runs = await readRuns(dir, manifest);
	if (runs.length === 0) throw new Error('the recording has no HLS segments');
	const report = options.onProgress ?? (() => {});
	const total = Math.max(0.1, streamSeconds(runs));
	const tmp = path.join(dir, 'replay.tmp.mp4');
	const single = runs.length === 1;
	const parts: string[] = [];
	let done = 0;
	for (const run of runs) {
		const out = single ? tmp : path.join(dir, `part-${String(run.seq).padStart(4, '0')}.mp4`);
		const seconds = run.segments.reduce((sum, s) => sum + s.duration, 0);
		await runFfmpeg(
			[
				...['-f', 'mpegts', '-i', 'pipe:0', '-map', '0', '-c', 'copy'],
				// Cut where the playlist says the run ends, so an audio tail past
				// the last video frame does not add up over many runs.
				...['-t', seconds.toFixed(3)],
				...['-bsf:a', 'aac_adtstoasc'],
				...(single ? ['-movflags', '+faststart'] : []),
				...['-f', 'mp4', '-y', out]
			],
			(t) => report((95 * (done + Math.min(t, seconds))) / total),
			options.ffmpegPath,
			runStream(dir, run)
		);
		parts.push(out);
		done += seconds;
	}
	if (!single) {
		const list = path.join(dir, 'parts.txt');
		await fs.writeFile(
			list,
			parts.map((p) => `file '${path.basename(p).replaceAll("'", "'\\''")}'`).join('\n') + '\n'
		);
		await runFfmpeg(
			[
				...['-f', 'concat', '-safe', '0', '-i', list, '-map', '0', '-c', 'copy'],
				...['-movflags', '+faststart', '-f', 'mp4', '-y', tmp]
			],
			undefined,
			options.ffmpegPath
		);
		for (const part of [...parts, list]) await fs.rm(part, { force: true });
	}
	const output = path.join(dir, REPLAY_FILE);
	await fs.rename(tmp, output);
	const { size } = await fs.stat(output);
	report(100);
	return {
		file: REPLAY_FILE,
		durationSeconds: (await probe(output))?.durationSeconds ?? total,
		sizeBytes: size,
		timeline: hlsTimeline(runs, manifest.startedAt)
	};
}
