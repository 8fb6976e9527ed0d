import { describe, expect, it } from 'vitest';
import {
	hlsTimeline,
	parseMediaPlaylist,
	renderEventPlaylist,
	renderLivePlaylist,
	type HlsRun
} from '../../media-server/src/recorder/hls.ts';
import { streamTimeAt } from '../../src/lib/media/hls-player.ts';

const t0 = Date.parse('2026-11-28T02:00:00.000Z');
const run = (seq: number, startedAt: number, count: number): HlsRun => ({
	seq,
	startedAt,
	segments: Array.from({ length: count }, (_, i) => ({
		uri: `run-000${seq}/seg-0000${i}.ts`,
		duration: 1
	}))
});
// Two runs with a 10 s gap between them (a restart).
const runs = [run(1, t0, 3), run(2, t0 + 13_000, 4)];

describe('HLS playlists', () => {
	it('joins runs with a discontinuity and a program date each', () => {
		const text = renderEventPlaylist(runs, { segmentSeconds: 1, ended: true });
		expect(text).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
		expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:0');
		expect(text.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
		expect(text).toContain('#EXT-X-PROGRAM-DATE-TIME:2026-11-28T02:00:00.000Z');
		expect(text).toContain('#EXT-X-PROGRAM-DATE-TIME:2026-11-28T02:00:13.000Z');
		expect(text.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
		expect(parseMediaPlaylist(text).map((s) => s.uri)).toHaveLength(7);
	});

	it('keeps sequence numbers of the whole stream in the live window', () => {
		const text = renderLivePlaylist(runs, { segmentSeconds: 1, ended: false, window: 3 });
		expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:4');
		// The window no longer holds the run boundary: it is counted instead.
		expect(text).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1');
		expect(text).not.toContain('#EXT-X-DISCONTINUITY\n');
		// Its first segment still carries its date (2 s into the second run).
		expect(text).toContain('#EXT-X-PROGRAM-DATE-TIME:2026-11-28T02:00:14.000Z');
		expect(parseMediaPlaylist(text).map((s) => s.uri)).toEqual([
			'run-0002/seg-00001.ts',
			'run-0002/seg-00002.ts',
			'run-0002/seg-00003.ts'
		]);
		const across = renderLivePlaylist(runs, { segmentSeconds: 1, ended: false, window: 5 });
		expect(across).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:0');
		expect(across.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
	});

	it('maps wall-clock time onto the stream without the gap', () => {
		const timeline = hlsTimeline(runs, t0);
		expect(timeline).toEqual([
			{ wallStartMs: 0, videoStart: 0, durationSeconds: 3 },
			{ wallStartMs: 13_000, videoStart: 3, durationSeconds: 4 }
		]);
		const fragments = [
			{ start: 0, duration: 3, programDateTime: t0 },
			{ start: 3, duration: 4, programDateTime: t0 + 13_000 }
		];
		expect(streamTimeAt(fragments, t0 + 1500)).toBe(1.5);
		expect(streamTimeAt(fragments, t0 + 8000)).toBe(3);
		expect(streamTimeAt(fragments, t0 + 15_000)).toBe(5);
	});
});
