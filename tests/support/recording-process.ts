/**
 * One app process's recording side, for the crash-recovery test: the
 * recordings lifecycle as the server runs it (with its startup recovery), the
 * media server, and an FFmpeg publisher (H.264 + Opus, as the studio sends)
 * standing in for the instructor's browser, which republishes after a
 * restart. The test kills this process with SIGKILL and starts it again on
 * the same database and recordings folder.
 *
 *   tsx tests/support/recording-process.ts   (env: the app's, plus CLASS_ID, INSTRUCTOR_ID)
 *
 * stdin lines: `go` (the class goes live), `end` (it ends; exits once the
 * replay and its MP4 are done). stdout lines: JSON events.
 */
import readline from 'node:readline';
import { MediaServer } from '../../media-server/src/index.ts';
import { startPlatform } from '../../src/lib/server/platform.ts';
import { finalizationIdle, startRecordings } from '../../src/lib/server/recordings/lifecycle.ts';
import { startPublisher } from '../media-server/helpers.ts';

const say = (event: string, data: Record<string, unknown> = {}) =>
	console.log(JSON.stringify({ event, ...data }));

const classId = process.env.CLASS_ID!;
const instructor = {
	id: process.env.INSTRUCTOR_ID!,
	role: 'INSTRUCTOR' as const,
	displayName: '讲师'
};

// As hooks.server.ts starts it: the platform, then the recordings with their recovery.
const p = await startPlatform();
p.leases.start();
await startRecordings({ db: p.db, events: p.events, media: p.media, leases: p.leases });
// FFmpeg publishes over a PlainTransport, which only the in-process media server offers.
const media = await p.media();
if (!(media instanceof MediaServer)) throw new Error('this process runs its own media server');
const room = await media.getOrCreateRoom(classId);
const video = await startPublisher(room, 'teacher', { codec: 'h264', keyFrameEvery: 15 });
const audio = await startPublisher(room, 'teacher', { kind: 'audio' });
say('publishing', { pids: [video.ffmpeg.pid, audio.ffmpeg.pid] });

for await (const line of readline.createInterface({ input: process.stdin })) {
	if (line === 'go') {
		const result = await p.lifecycle.goLive(classId, instructor);
		say('live', { ok: result.ok });
	} else if (line === 'end') {
		const result = await p.lifecycle.end(classId, instructor);
		await finalizationIdle();
		await Promise.all([video.stop(), audio.stop()]);
		say('finished', { ok: result.ok });
		process.exit(0);
	}
}
