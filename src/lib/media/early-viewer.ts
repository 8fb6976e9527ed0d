import {
	EARLY_PLAYING_ATTRIBUTE,
	EARLY_START_META_NAME,
	LIVE_VIDEO_SELECTOR,
	type EarlyStart
} from './early-start.ts';
import { Viewer } from './viewer.ts';

/**
 * The watch page's early script. Its HTML loads this module (and the modules
 * it needs) before the page's own code, so the media socket, the join and the
 * consumers are under way while SvelteKit loads and hydrates the page; the
 * first picture shows in the server-rendered <video>. The page then takes the
 * viewer over with adoptEarlyViewer() instead of starting a second one.
 */

let early: { classId: string; viewer: Viewer } | undefined = start();

function start(): { classId: string; viewer: Viewer } | undefined {
	const meta = document.querySelector<HTMLMetaElement>(`meta[name="${EARLY_START_META_NAME}"]`);
	if (!meta?.content) return undefined;
	performance.mark('live:early');
	const { classId, routerRtpCapabilities } = JSON.parse(meta.content) as EarlyStart;
	const viewer = new Viewer(classId, { onStream: show }, { routerRtpCapabilities });
	void viewer.start();
	return { classId, viewer };
}

/** Muted, which every browser lets play by itself; the page asks for sound once it runs. */
function show(stream: MediaStream) {
	const video = document.querySelector<HTMLVideoElement>(LIVE_VIDEO_SELECTOR);
	if (!video) return;
	video.muted = true;
	video.srcObject = stream;
	video.setAttribute(EARLY_PLAYING_ATTRIBUTE, '');
	void video.play().catch(() => undefined);
}

/** The viewer the early script started for this class, once; undefined if it started none. */
export function adoptEarlyViewer(classId: string): Viewer | undefined {
	const found = early?.classId === classId ? early.viewer : undefined;
	if (!found) early?.viewer.close();
	early = undefined;
	document
		.querySelector<HTMLVideoElement>(LIVE_VIDEO_SELECTOR)
		?.removeAttribute(EARLY_PLAYING_ATTRIBUTE);
	return found;
}
