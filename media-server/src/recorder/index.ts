import { z } from 'zod';

export {
	ClassRecorder,
	closeInterruptedSegments,
	pickInterpreter,
	pickSources
} from './recorder.js';
export {
	compositeInterpreter,
	INTERPRETER_DIR,
	WITH_INTERPRETER_FILE,
	type CompositeOptions
} from './interpreter.js';
export type { ClassRecorderEvents, ClassRecorderOptions } from './recorder.js';
export {
	finalizeRecording,
	videoTimeAt,
	POSTER_FILE,
	REPLAY_FILE,
	type FinalizeOptions,
	type FinalizeResult,
	type TimelineEntry
} from './finalize.js';
export { makePoster, probe, runFfmpeg, type ProbeResult } from './ffmpeg.js';
export {
	EVENT_PLAYLIST,
	LIVE_PLAYLIST,
	hlsTimeline,
	isHlsOnly,
	parseMediaPlaylist,
	readRuns,
	renderEventPlaylist,
	renderLivePlaylist,
	streamSeconds,
	writePlaylists,
	type HlsRun,
	type HlsSegment
} from './hls.js';
export {
	finishHlsStream,
	remuxHlsToMp4,
	type FinishedStream,
	type RemuxResult
} from './replay-hls.js';
export {
	MANIFEST_FILE,
	readManifest,
	writeManifest,
	type RecordingManifest,
	type RecordingSegmentInfo,
	type SegmentTrack
} from './manifest.js';
export { PortAllocator } from './ports.js';

const port = z.coerce.number().int().min(1024).max(65535);

export const recordingConfigSchema = z
	.object({
		/** UDP ports FFmpeg listens on for RTP/RTCP, two per recorded track. */
		minPort: port.default(50000),
		maxPort: port.default(50999)
	})
	.refine((c) => c.maxPort - c.minPort >= 3, {
		message: 'recording port range must hold at least two RTP/RTCP pairs',
		path: ['maxPort']
	});

export type RecordingConfig = z.output<typeof recordingConfigSchema>;

/** Reads MEDIA_RECORDING_MIN_PORT / MEDIA_RECORDING_MAX_PORT (unset keeps 50000-50999). */
export function recordingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RecordingConfig {
	const parsed = recordingConfigSchema.safeParse({
		minPort: env.MEDIA_RECORDING_MIN_PORT || undefined,
		maxPort: env.MEDIA_RECORDING_MAX_PORT || undefined
	});
	if (parsed.success) return parsed.data;
	const names = { minPort: 'MEDIA_RECORDING_MIN_PORT', maxPort: 'MEDIA_RECORDING_MAX_PORT' };
	const problems = parsed.error.issues.map(
		(issue) => `${names[issue.path[0] as keyof typeof names] ?? ''}: ${issue.message}`
	);
	throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}
