import type Hls from 'hls.js';
import type { Fragment } from 'hls.js';

/**
 * Plays an HLS playlist (a live class's stream, its rewind, a replay) in a
 * <video>: through hls.js wherever Media Source Extensions exist, natively
 * where they do not (older iOS Safari plays HLS by itself). hls.js loads
 * only when needed, and its transmuxing worker is served from the app's own
 * origin, which a `worker-src 'self'` policy allows.
 */

export type HlsPlayerOptions = {
	/** Follow the live edge closely; off for a finished replay. */
	live?: boolean;
	/**
	 * Rewind: start at this wall-clock moment (epoch ms), found through the
	 * playlist's program dates, so a gap in the stream (a restart) does not
	 * shift it. `approxStartAt` (seconds) serves players without the dates.
	 */
	startAtDate?: number;
	approxStartAt?: number;
	/** A fatal error hls.js could not recover from (the page may fall back). */
	onFatal?: (details: string) => void;
	/** The playlist says the stream has ended (#EXT-X-ENDLIST). */
	onEnded?: () => void;
};

export type HlsPlayer = {
	/** 'hls.js' or 'native'. */
	engine: 'hls.js' | 'native';
	/** Seconds of the stream for a wall-clock moment (program dates), when known. */
	streamTimeAt(epochMs: number): number | null;
	/** The wall-clock moment shown at a stream time, when known. */
	dateAt(streamTime: number): number | null;
	/** Seconds from the start of the stream to its live edge. */
	edge(): number;
	destroy(): void;
};

// SvelteKit serves this file from /_app/immutable, i.e. from 'self'.
const workerUrl = () => import('hls.js/dist/hls.worker.js?url').then((m) => m.default);

export async function playHls(
	video: HTMLVideoElement,
	url: string,
	options: HlsPlayerOptions = {}
): Promise<HlsPlayer> {
	const { default: HlsClass } = await import('hls.js');
	if (!HlsClass.isSupported()) {
		if (!video.canPlayType('application/vnd.apple.mpegurl')) {
			throw new Error('this browser plays no HLS');
		}
		return playNatively(video, url, options);
	}
	const startAtDate = options.startAtDate;
	const hls: Hls = new HlsClass({
		workerPath: await workerUrl(),
		// Segments are about a second long: start 1.5 s behind the live edge and
		// catch up (slightly faster playback) when more than 5 s behind.
		...(options.live
			? { liveSyncDuration: 1.5, liveMaxLatencyDuration: 5, maxLiveSyncPlaybackRate: 1.2 }
			: {}),
		// A rewind starts loading once the playlist says where its moment is.
		autoStartLoad: startAtDate === undefined,
		backBufferLength: 60
	});
	let fragments: Fragment[] = [];
	let ended = false;
	hls.on(HlsClass.Events.LEVEL_LOADED, (_event, data) => {
		const first = fragments.length === 0;
		fragments = data.details.fragments;
		if (first && startAtDate !== undefined)
			hls.startLoad(streamTimeAt(fragments, startAtDate) ?? 0);
		if (!data.details.live && !ended) {
			ended = true;
			options.onEnded?.();
		}
	});
	hls.on(HlsClass.Events.ERROR, (_event, data) => {
		if (!data.fatal) return;
		if (data.type === HlsClass.ErrorTypes.MEDIA_ERROR) {
			hls.recoverMediaError();
			return;
		}
		options.onFatal?.(data.details);
	});
	hls.loadSource(url);
	hls.attachMedia(video);
	return {
		engine: 'hls.js',
		streamTimeAt: (epochMs) => streamTimeAt(fragments, epochMs),
		dateAt: (t) => dateAt(fragments, t),
		edge: () => {
			const last = fragments.at(-1);
			return last ? last.start + last.duration : 0;
		},
		destroy: () => hls.destroy()
	};
}

function playNatively(video: HTMLVideoElement, url: string, options: HlsPlayerOptions): HlsPlayer {
	video.src = url;
	if (options.approxStartAt !== undefined) {
		const startAt = options.approxStartAt;
		video.addEventListener('loadedmetadata', () => (video.currentTime = startAt), { once: true });
	}
	const onEnded = () => options.onEnded?.();
	video.addEventListener('ended', onEnded);
	return {
		engine: 'native',
		// Safari exposes the program date of the playhead only, not a mapping.
		streamTimeAt: () => null,
		dateAt: () => null,
		edge: () => (video.seekable.length > 0 ? video.seekable.end(video.seekable.length - 1) : 0),
		destroy: () => {
			video.removeEventListener('ended', onEnded);
			video.removeAttribute('src');
			video.load();
		}
	};
}

/** Seconds of the stream showing the wall-clock moment; a moment in a gap maps to what follows it. */
export function streamTimeAt(
	fragments: { start: number; duration: number; programDateTime: number | null }[],
	epochMs: number
): number | null {
	for (const f of fragments) {
		if (f.programDateTime === null) continue;
		if (epochMs < f.programDateTime) return f.start;
		if (epochMs < f.programDateTime + f.duration * 1000) {
			return f.start + (epochMs - f.programDateTime) / 1000;
		}
	}
	const last = fragments.at(-1);
	return last ? last.start + last.duration : null;
}

function dateAt(
	fragments: { start: number; duration: number; programDateTime: number | null }[],
	t: number
): number | null {
	const f = fragments.find((x) => t >= x.start && t < x.start + x.duration) ?? fragments.at(-1);
	if (!f || f.programDateTime === null) return null;
	return f.programDateTime + (Math.min(t, f.start + f.duration) - f.start) * 1000;
}
