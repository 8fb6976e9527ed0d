import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function segment(dir: string, file: string, seconds: number, withVideo: boolean) {
	execFileSync('ffmpeg', [
		'-hide_banner',
		'-loglevel',
		'error',
		'-y',
		...(withVideo ? ['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15'] : []),
		'-f',
		'lavfi',
		'-i',
		'sine=frequency=440:sample_rate=48000',
		'-t',
		String(seconds),
		...(withVideo ? ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'] : []),
		'-c:a',
		'libopus',
		path.join(dir, file)
	]);
}

/**
 * What a server that died mid-class leaves in a recording's folder: camera
 * for 3 s, then 2 s with the camera off (audio only), the second segment
 * without an end time. Returns the recording's start (epoch ms), 10 s ago.
 */
export function writeInterruptedRecording(
	root: string,
	recording: { classId: string; recordingId: string; dir: string }
): number {
	const dir = path.join(root, recording.dir);
	fs.mkdirSync(dir, { recursive: true });
	segment(dir, 'segment-0001.mkv', 3, true);
	segment(dir, 'segment-0002.mkv', 2, false);
	const t0 = Date.now() - 10_000;
	fs.writeFileSync(
		path.join(dir, 'manifest.json'),
		JSON.stringify({
			version: 1,
			classId: recording.classId,
			recordingId: recording.recordingId,
			startedAt: t0,
			endedAt: null,
			segments: [
				{
					seq: 1,
					file: 'segment-0001.mkv',
					startedAt: t0,
					endedAt: t0 + 3000,
					video: { producerId: 'v', mimeType: 'video/VP8' },
					audio: { producerId: 'a', mimeType: 'audio/opus' },
					endReason: 'switched'
				},
				{
					seq: 2,
					file: 'segment-0002.mkv',
					startedAt: t0 + 3500,
					endedAt: null,
					video: null,
					audio: { producerId: 'a', mimeType: 'audio/opus' }
				}
			]
		})
	);
	return t0;
}
