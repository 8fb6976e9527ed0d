import { z } from '../zod.ts';

/**
 * Replay attendance from the player: the seconds actually played (not seeked
 * over, paused or skipped), as time spent watching, sent in batches of about
 * 15 s and whenever playback stops or the page is hidden. Used as a Svelte
 * action on the replay's <video>.
 */

export const replayProgressSchema = z.object({
	recordingId: z.string().uuid(),
	seconds: z.number().positive().max(60)
});
export type ReplayProgress = z.infer<typeof replayProgressSchema>;

const BATCH_SECONDS = 15;
/** A jump in currentTime larger than this between two timeupdates is a seek, not playing. */
const MAX_STEP_SECONDS = 2;

export function reportPlayback(
	video: HTMLVideoElement,
	params: { classId: string; recordingId: string }
) {
	let target = params;
	let played = 0;
	let last: number | null = null;

	function flush() {
		const seconds = Math.min(60, Math.round(played * 10) / 10);
		if (seconds <= 0) return;
		played = 0;
		const body: ReplayProgress = { recordingId: target.recordingId, seconds };
		void fetch(`/classes/${target.classId}/replay/progress`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
			keepalive: true
		}).catch(() => undefined);
	}

	function onTime() {
		const now = video.currentTime;
		if (last !== null && !video.paused && !video.seeking) {
			const step = now - last;
			if (step > 0 && step <= MAX_STEP_SECONDS) played += step / (video.playbackRate || 1);
		}
		last = now;
		if (played >= BATCH_SECONDS) flush();
	}
	const forget = () => (last = null);
	const stop = () => {
		onTime();
		last = null;
		flush();
	};
	const onVisibility = () => {
		if (document.visibilityState === 'hidden') flush();
	};

	video.addEventListener('timeupdate', onTime);
	video.addEventListener('seeking', forget);
	video.addEventListener('pause', stop);
	video.addEventListener('ended', stop);
	document.addEventListener('visibilitychange', onVisibility);
	window.addEventListener('pagehide', flush);

	return {
		update(next: { classId: string; recordingId: string }) {
			if (next.recordingId !== target.recordingId) flush();
			target = next;
			last = null;
		},
		destroy() {
			flush();
			video.removeEventListener('timeupdate', onTime);
			video.removeEventListener('seeking', forget);
			video.removeEventListener('pause', stop);
			video.removeEventListener('ended', stop);
			document.removeEventListener('visibilitychange', onVisibility);
			window.removeEventListener('pagehide', flush);
		}
	};
}
