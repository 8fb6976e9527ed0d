import fs from 'node:fs/promises';
import path from 'node:path';
import { probe } from './ffmpeg.js';
import type { RecordingManifest, RecordingSegmentInfo } from './manifest.js';

/**
 * The class's HLS stream as viewers and the replay see it. Every FFmpeg run
 * (one per recorder segment: a source or layer switch, an FFmpeg restart, an
 * app restart) writes its own media playlist in `run-NNNN/`; this module
 * joins the runs, in order, into
 * - `index.m3u8`: an EVENT playlist of the whole class (rewind, then the
 *   replay once it carries #EXT-X-ENDLIST);
 * - `live.m3u8`: the last few segments, which live viewers reload every
 *   second without fetching the whole class each time.
 * Each run starts with #EXT-X-DISCONTINUITY and #EXT-X-PROGRAM-DATE-TIME, so
 * a player maps wall-clock time (a question's) onto media time exactly, and
 * the time between runs (a crash, a restart) is simply not in the stream.
 */

export const EVENT_PLAYLIST = 'index.m3u8';
export const LIVE_PLAYLIST = 'live.m3u8';
/** What FFmpeg writes inside each run folder. */
export const RUN_PLAYLIST = 'stream.m3u8';

export interface HlsSegment {
	/** Relative to the recording folder, e.g. run-0001/seg-00003.ts. */
	uri: string;
	duration: number;
}

export interface HlsRun {
	seq: number;
	/** Epoch ms when the run's media started flowing. */
	startedAt: number;
	segments: HlsSegment[];
}

/** The EXTINF segments of one media playlist, URIs as written. */
export function parseMediaPlaylist(text: string): { uri: string; duration: number }[] {
	const segments: { uri: string; duration: number }[] = [];
	let duration: number | null = null;
	for (const raw of text.split('\n')) {
		const line = raw.trim();
		if (line.startsWith('#EXTINF:')) {
			duration = Number.parseFloat(line.slice('#EXTINF:'.length));
		} else if (line && !line.startsWith('#') && duration !== null) {
			if (Number.isFinite(duration)) segments.push({ uri: line, duration });
			duration = null;
		}
	}
	return segments;
}

const probed = new Map<string, number>();

/**
 * FFmpeg lists the segment it closes on exit with a duration of 0 (copied
 * video has no next packet to measure it by); ffprobe measures it instead.
 */
async function measured(file: string, listed: number): Promise<number> {
	if (listed >= 0.05) return listed;
	let seconds = probed.get(file);
	if (seconds === undefined) {
		seconds = (await probe(file))?.durationSeconds ?? 0;
		if (probed.size > 1000) probed.clear();
		probed.set(file, seconds);
	}
	return seconds;
}

/** The HLS runs listed in the manifest, with the segments each has finished so far. */
export async function readRuns(dir: string, manifest: RecordingManifest): Promise<HlsRun[]> {
	const runs: HlsRun[] = [];
	for (const segment of manifest.segments) {
		if (segment.format !== 'hls') continue;
		const runDir = path.posix.dirname(segment.file);
		const text = await fs.readFile(path.join(dir, segment.file), 'utf8').catch(() => '');
		const segments: HlsSegment[] = [];
		for (const s of parseMediaPlaylist(text)) {
			const uri = path.posix.join(runDir, path.posix.basename(s.uri));
			const duration = await measured(path.join(dir, uri), s.duration);
			// A segment too short to hold a frame is left out.
			if (duration >= 0.05) segments.push({ uri, duration });
		}
		runs.push({ seq: segment.seq, startedAt: segment.startedAt, segments });
	}
	return runs.filter((run) => run.segments.length > 0);
}

export interface PlaylistOptions {
	/** The nominal segment length; the target duration never goes below it. */
	segmentSeconds: number;
	ended: boolean;
}

type Entry = HlsSegment & {
	/** First segment of a run that follows another one. */
	discontinuity: boolean;
	runStart: boolean;
	/** Epoch ms of the segment's first frame. */
	date: number;
};

function entries(runs: HlsRun[]): Entry[] {
	const out: Entry[] = [];
	for (const run of runs) {
		let date = run.startedAt;
		run.segments.forEach((segment, i) => {
			out.push({ ...segment, discontinuity: i === 0 && out.length > 0, runStart: i === 0, date });
			date += segment.duration * 1000;
		});
	}
	return out;
}

function targetDuration(all: Entry[], segmentSeconds: number): number {
	// EXTINF rounded to the nearest integer may not exceed it (RFC 8216 4.3.3.1).
	return Math.max(Math.ceil(segmentSeconds * 2), ...all.map((e) => Math.round(e.duration)));
}

/** Segments `first`.. of the stream; a window that drops a discontinuity counts it instead. */
function render(
	all: Entry[],
	first: number,
	options: PlaylistOptions & { event: boolean }
): string {
	const skipped = all.slice(0, first + 1).filter((e) => e.discontinuity).length;
	const lines = [
		'#EXTM3U',
		'#EXT-X-VERSION:3',
		`#EXT-X-TARGETDURATION:${targetDuration(all, options.segmentSeconds)}`,
		`#EXT-X-MEDIA-SEQUENCE:${first}`,
		options.event ? '#EXT-X-PLAYLIST-TYPE:EVENT' : `#EXT-X-DISCONTINUITY-SEQUENCE:${skipped}`,
		// Segments are cut at key frames, so each one decodes on its own.
		'#EXT-X-INDEPENDENT-SEGMENTS'
	];
	all.slice(first).forEach((entry, i) => {
		if (entry.discontinuity && i > 0) lines.push('#EXT-X-DISCONTINUITY');
		if (entry.runStart || i === 0) {
			lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(entry.date).toISOString()}`);
		}
		lines.push(`#EXTINF:${entry.duration.toFixed(3)},`, entry.uri);
	});
	if (options.ended) lines.push('#EXT-X-ENDLIST');
	return lines.join('\n') + '\n';
}

export function renderEventPlaylist(runs: HlsRun[], options: PlaylistOptions): string {
	return render(entries(runs), 0, { ...options, event: true });
}

/** The last `window` segments (the live edge), numbered as in the whole stream. */
export function renderLivePlaylist(
	runs: HlsRun[],
	options: PlaylistOptions & { window: number }
): string {
	const all = entries(runs);
	return render(all, Math.max(0, all.length - options.window), { ...options, event: false });
}

/** Where each run landed in the stream: what the replay's question markers use. */
export function hlsTimeline(
	runs: HlsRun[],
	recordingStartedAt: number
): { wallStartMs: number; videoStart: number; durationSeconds: number }[] {
	let videoStart = 0;
	return runs.map((run) => {
		const durationSeconds = run.segments.reduce((sum, s) => sum + s.duration, 0);
		const entry = {
			wallStartMs: run.startedAt - recordingStartedAt,
			videoStart: Math.round(videoStart * 1000) / 1000,
			durationSeconds: Math.round(durationSeconds * 1000) / 1000
		};
		videoStart += durationSeconds;
		return entry;
	});
}

export function streamSeconds(runs: HlsRun[]): number {
	return runs.reduce((sum, run) => sum + run.segments.reduce((s, seg) => s + seg.duration, 0), 0);
}

let writes = 0;

async function writeAtomically(file: string, text: string): Promise<void> {
	const tmp = `${file}.${process.pid}-${writes++}.tmp`;
	await fs.writeFile(tmp, text);
	await fs.rename(tmp, file);
}

/** Writes both playlists from what the runs hold now; returns the runs. */
export async function writePlaylists(
	dir: string,
	manifest: RecordingManifest,
	options: PlaylistOptions & { window?: number }
): Promise<HlsRun[]> {
	const runs = await readRuns(dir, manifest);
	if (runs.length === 0) return runs;
	await writeAtomically(path.join(dir, EVENT_PLAYLIST), renderEventPlaylist(runs, options));
	await writeAtomically(
		path.join(dir, LIVE_PLAYLIST),
		renderLivePlaylist(runs, { ...options, window: options.window ?? 6 })
	);
	return runs;
}

/** Whether a recording (as its manifest lists it) is an HLS stream from end to end. */
export function isHlsOnly(segments: RecordingSegmentInfo[]): boolean {
	return segments.length > 0 && segments.every((s) => s.format === 'hls');
}
