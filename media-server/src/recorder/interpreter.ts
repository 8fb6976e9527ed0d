import fs from 'node:fs/promises';
import path from 'node:path';
import { probe, runFfmpeg } from './ffmpeg.js';
import { videoTimeAt, type TimelineEntry } from './finalize.js';
import { fileStartedAt, readManifest } from './manifest.js';
import { REPLAY_FILE } from './replay-hls.js';

/**
 * 手语翻译 in the replay. The interpreter's camera is recorded beside the
 * class (its own ClassRecorder with `pick: pickInterpreter`, Matroska
 * segments in `interpreter/` of the recording folder), so the class's own
 * recording and replay stay as they are. Once the class's MP4 exists, the
 * interpreter's segments are overlaid on it, bottom right, each where its
 * wall-clock start falls on the replay's timeline: `with-interpreter.mp4`.
 */
export const INTERPRETER_DIR = 'interpreter';
export const WITH_INTERPRETER_FILE = 'with-interpreter.mp4';

export interface CompositeOptions {
	ffmpegPath?: string;
	ffprobePath?: string;
	/** The interpreter's width as a share of the picture's. */
	scale?: number;
	onProgress?: (seconds: number) => void;
}

/**
 * Writes `with-interpreter.mp4` in the recording folder `dir` from its
 * `replay.mp4` and the interpreter's segments. `timeline` and
 * `recordingStartedAt` place wall-clock moments on the replay. Resolves with
 * the file name, or null when the interpreter recorded nothing readable.
 */
export async function compositeInterpreter(
	dir: string,
	timeline: TimelineEntry[],
	recordingStartedAt: number,
	options: CompositeOptions = {}
): Promise<string | null> {
	const ffprobePath = options.ffprobePath ?? 'ffprobe';
	const own = path.join(dir, INTERPRETER_DIR);
	const manifest = await readManifest(own);
	if (!manifest) return null;
	const segments: { file: string; offset: number }[] = [];
	for (const segment of manifest.segments) {
		const file = path.join(own, segment.file);
		const info = (await fs.stat(file).catch(() => null))?.size
			? await probe(file, ffprobePath)
			: null;
		if (!info?.streams.some((s) => s.codecType === 'video')) continue;
		segments.push({
			file,
			offset: videoTimeAt(timeline, fileStartedAt(segment) - recordingStartedAt)
		});
	}
	if (segments.length === 0) return null;
	const replay = path.join(dir, REPLAY_FILE);
	const main = await probe(replay, ffprobePath);
	const picture = main?.streams.find((s) => s.codecType === 'video');
	if (!main || !picture?.width) throw new Error(`no video in ${replay}`);
	const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
	const width = even(picture.width * (options.scale ?? 0.3));
	const margin = even(picture.width * 0.02);
	// Each segment from its own start, shifted to its place; the class picture
	// passes through wherever no interpreter frame is due.
	const filters: string[] = [];
	let base = '0:v';
	segments.forEach((segment, i) => {
		const out = i === segments.length - 1 ? 'out' : `v${i + 1}`;
		filters.push(
			`[${i + 1}:v]setpts=PTS-STARTPTS+${segment.offset.toFixed(3)}/TB,scale=${width}:-2[pip${i + 1}]`,
			`[${base}][pip${i + 1}]overlay=W-w-${margin}:H-h-${margin}:eof_action=pass[${out}]`
		);
		base = out;
	});
	const tmp = path.join(dir, `${WITH_INTERPRETER_FILE}.tmp.mp4`);
	await runFfmpeg(
		[
			...['-i', replay],
			...segments.flatMap((s) => ['-i', s.file]),
			...['-filter_complex', filters.join(';'), '-map', '[out]', '-map', '0:a?'],
			...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p'],
			...['-c:a', 'copy', '-movflags', '+faststart', '-y', tmp]
		],
		options.onProgress,
		options.ffmpegPath
	);
	await fs.rename(tmp, path.join(dir, WITH_INTERPRETER_FILE));
	return WITH_INTERPRETER_FILE;
}
