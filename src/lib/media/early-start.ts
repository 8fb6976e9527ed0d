/**
 * The watch page's early start: its HTML carries this (JSON in a <meta>
 * element of this name, which is data, not a script) and loads the early
 * viewer script, which starts joining the live class while the page's own
 * code is still loading and hydrating.
 */
export const EARLY_START_META_NAME = 'tc-early-start';

export type EarlyStart = {
	classId: string;
	/** The media server's router capabilities, so the Device loads at once. */
	routerRtpCapabilities: unknown;
};

/** The watch page's live <video>, which the early script plays into. */
export const LIVE_VIDEO_SELECTOR = 'video[data-live-video]';

/** Set on that <video> while the early script plays it, until the page takes over. */
export const EARLY_PLAYING_ATTRIBUTE = 'data-early-playing';
