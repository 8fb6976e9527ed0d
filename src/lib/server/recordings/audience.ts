import { webRtcViewerCapacity, type MediaService } from '../../../../media-server/src/index.ts';
import { getDb } from '../platform.ts';

/**
 * Who watches a live class, and how: WebRTC viewers as the media namespace
 * counts them, HLS viewers as the ones whose player reloaded the live
 * playlist lately. Decides the overflow: past the class's WebRTC capacity a
 * new viewer is sent to HLS, when the class has an HLS stream.
 */

/** A player reloads the live playlist every second or so; gone after this. */
const HLS_VIEWER_TTL_MS = 10_000;

type Audience = { webrtc: number; hls: Map<string, number> };

// On globalThis: the media namespace (loaded beside the SvelteKit bundle)
// and the HLS routes (inside it) must count into the same maps.
const KEY = Symbol.for('taxpayer-classroom.live-audience');
type WithAudience = { [KEY]?: Map<string, Audience> };

function audienceOf(classId: string): Audience {
	const holder = globalThis as WithAudience;
	const all = (holder[KEY] ??= new Map());
	let audience = all.get(classId);
	if (!audience) all.set(classId, (audience = { webrtc: 0, hls: new Map() }));
	return audience;
}

export function noteWebRtcViewers(classId: string, count: number): void {
	audienceOf(classId).webrtc = count;
}

export function noteHlsViewer(classId: string, viewerKey: string): void {
	audienceOf(classId).hls.set(viewerKey, Date.now());
}

export function liveAudience(classId: string): { webrtc: number; hls: number } {
	const audience = audienceOf(classId);
	const since = Date.now() - HLS_VIEWER_TTL_MS;
	for (const [key, at] of audience.hls) if (at < since) audience.hls.delete(key);
	return { webrtc: audience.webrtc, hls: audience.hls.size };
}

/**
 * Whether a joining viewer must watch over HLS: the class already has as
 * many WebRTC viewers (besides this one) as it may, and it has an HLS stream
 * to send them to. A VP8 class has none, so it takes everyone over WebRTC.
 */
export async function mustOverflow(
	media: MediaService,
	classId: string,
	otherViewers: number
): Promise<boolean> {
	if (otherViewers < webRtcViewerCapacity(media.config)) return false;
	return hasHlsStream(classId);
}

/**
 * A stream that exists is remembered for a moment, and lookups already on
 * their way are shared: past the capacity every joining viewer asks, and at
 * class start thousands of them do. A missing stream is asked again each
 * time, since the packager may be starting.
 */
const STREAM_KNOWN_MS = 2_000;
const streams = new Map<string, { at: number; found: Promise<boolean> }>();

function hasHlsStream(classId: string): Promise<boolean> {
	const known = streams.get(classId);
	if (known && Date.now() - known.at < STREAM_KNOWN_MS) return known.found;
	const found = (async () => {
		const stream = await (
			await getDb()
		).recording.findFirst({
			where: { classId, status: 'RECORDING', playlistPath: { not: null } },
			select: { id: true }
		});
		return stream !== null;
	})();
	streams.set(classId, { at: Date.now(), found });
	const forget = () => {
		if (streams.get(classId)?.found === found) streams.delete(classId);
	};
	found.then((yes) => (yes ? undefined : forget()), forget);
	return found;
}
