import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';

/** util-linux's setpriv, present on every Debian: it can tie a child's life to ours. */
const SETPRIV = '/usr/bin/setpriv';
const canTie = process.platform === 'linux' && fs.existsSync(SETPRIV);

/**
 * Starts an FFmpeg (or ffprobe) that dies with this process, however it
 * ends: a live recorder's FFmpeg left behind by a crash or a restart would
 * otherwise run on for ever (its filler input never ends), holding its RTP
 * port and a core's share while the restarted server records afresh.
 */
export function spawnTied(command: string, args: string[], options: SpawnOptions): ChildProcess {
	if (!canTie) return spawn(command, args, options);
	return spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args], options);
}

export interface ProbeResult {
	durationSeconds: number | null;
	streams: { codecType: string; codecName: string; width?: number; height?: number }[];
}

/** ffprobe's view of a media file; null when it cannot be read at all. */
export async function probe(file: string, ffprobePath = 'ffprobe'): Promise<ProbeResult | null> {
	const { code, stdout } = await run(ffprobePath, [
		'-v',
		'error',
		'-show_entries',
		'format=duration:stream=codec_type,codec_name,width,height',
		'-of',
		'json',
		file
	]);
	if (code !== 0) return null;
	try {
		const json = JSON.parse(stdout) as {
			format?: { duration?: string };
			streams?: { codec_type: string; codec_name: string; width?: number; height?: number }[];
		};
		const duration = Number(json.format?.duration);
		return {
			durationSeconds: Number.isFinite(duration) ? duration : null,
			streams: (json.streams ?? []).map((s) => ({
				codecType: s.codec_type,
				codecName: s.codec_name,
				width: s.width,
				height: s.height
			}))
		};
	} catch {
		return null;
	}
}

/**
 * Runs FFmpeg with -progress on stdout and reports the output time reached,
 * in seconds. Rejects with the tail of stderr when FFmpeg fails. `stdin`
 * feeds `-i pipe:0`.
 */
export function runFfmpeg(
	args: string[],
	onTime: (seconds: number) => void = () => {},
	ffmpegPath = 'ffmpeg',
	stdin?: Readable
): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawnTied(
			ffmpegPath,
			[
				'-hide_banner',
				'-nostdin',
				'-loglevel',
				'error',
				'-nostats',
				'-progress',
				'pipe:1',
				...args
			],
			{ stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] }
		);
		if (stdin && child.stdin) {
			// FFmpeg may stop reading early (an error); that is reported by its exit.
			child.stdin.on('error', () => undefined);
			stdin.on('error', (error) => child.stdin?.destroy(error));
			stdin.pipe(child.stdin);
		}
		let stderr = '';
		let pending = '';
		child.stdout?.on('data', (d: Buffer) => {
			pending += d.toString();
			const lines = pending.split('\n');
			pending = lines.pop() ?? '';
			for (const line of lines) {
				const match = /^out_time_us=(\d+)/.exec(line.trim());
				if (match) onTime(Number(match[1]) / 1e6);
			}
		});
		child.stderr?.on('data', (d: Buffer) => {
			stderr = (stderr + d.toString()).slice(-4000);
		});
		child.once('error', reject);
		child.once('close', (code) => {
			if (code === 0) resolve();
			else reject(new Error(`ffmpeg exited with ${code}: ${stderr.trim().slice(-1000)}`));
		});
	});
}

/** A JPEG frame of the video at `atSeconds`, 640 px wide; false when FFmpeg cannot make one. */
export async function makePoster(
	input: string,
	output: string,
	atSeconds: number,
	ffmpegPath = 'ffmpeg'
): Promise<boolean> {
	try {
		await runFfmpeg(
			[
				...['-ss', String(atSeconds), '-i', input],
				...['-frames:v', '1', '-vf', 'scale=640:-2', '-q:v', '4', '-y', output]
			],
			undefined,
			ffmpegPath
		);
		return true;
	} catch {
		return false;
	}
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
	return new Promise((resolve) => {
		const child = spawnTied(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
		let stdout = '';
		child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
		child.once('error', () => resolve({ code: -1, stdout }));
		child.once('close', (code) => resolve({ code, stdout }));
	});
}
