import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createDb } from '../../src/lib/server/db/client.ts';

/**
 * A READY replay for a class, without holding a live class first: a short
 * real MP4 (test picture and tone, H.264 + AAC) made by FFmpeg, filed the way
 * the recorder files a finished recording. Returns the recording's id.
 */
export async function seedReplay(
	pgliteDir: string,
	recordingsDir: string,
	classId: string
): Promise<string> {
	const dir = `seeded-${classId}`;
	fs.mkdirSync(path.join(recordingsDir, dir), { recursive: true });
	const file = path.join(dir, 'replay.mp4');
	const seconds = 4;
	execFileSync('ffmpeg', [
		'-v',
		'error',
		'-f',
		'lavfi',
		'-i',
		`testsrc=size=640x360:rate=25:duration=${seconds}`,
		'-f',
		'lavfi',
		'-i',
		`sine=frequency=440:duration=${seconds}`,
		'-c:v',
		'libx264',
		'-pix_fmt',
		'yuv420p',
		'-c:a',
		'aac',
		'-movflags',
		'+faststart',
		'-y',
		path.join(recordingsDir, file)
	]);
	const db = await createDb({ PGLITE_DIR: pgliteDir, DATABASE_URL: '' });
	try {
		const recording = await db.recording.create({
			data: {
				classId,
				status: 'READY',
				progress: 100,
				dir,
				filePath: file,
				durationSeconds: seconds,
				sizeBytes: BigInt(fs.statSync(path.join(recordingsDir, file)).size),
				endedAt: new Date()
			},
			select: { id: true }
		});
		return recording.id;
	} finally {
		await db.$disconnect();
	}
}
