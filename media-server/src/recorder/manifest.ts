import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * What the recorder leaves in a recording's folder, next to the segments. It
 * is rewritten (atomically) at every change, so after a crash it still lists
 * every segment that exists on disk.
 */
export interface SegmentTrack {
	producerId: string;
	mimeType: string;
}

export interface RecordingSegmentInfo {
	seq: number;
	/**
	 * 'mkv': RTP copied into one Matroska file (VP8, re-encoded at the end).
	 * 'hls': an HLS run (H.264 copied, AAC) in its own folder. Absent in
	 * manifests written before HLS, which were all Matroska.
	 */
	format?: 'mkv' | 'hls';
	/** Inside the recording folder: the .mkv, or the run's own playlist. */
	file: string;
	/** FFmpeg's process id, so recovery can stop one a crashed server left running. */
	pid?: number;
	/** Epoch ms when media started flowing to FFmpeg. */
	startedAt: number;
	/**
	 * Epoch ms when the first video key frame went to FFmpeg. A file without
	 * sound starts there, often a second or more after startedAt: the camera
	 * answers the key frame request late. Absent in older manifests.
	 */
	firstKeyFrameAt?: number;
	/** Epoch ms; null while recording (or if the process died). */
	endedAt: number | null;
	video: SegmentTrack | null;
	audio: SegmentTrack | null;
	/** Why the segment ended: stopped, source changed, or FFmpeg died. */
	endReason?: 'stopped' | 'switched' | 'died' | 'crashed' | 'stalled';
}

/**
 * The wall-clock moment of a segment's first media in its file: its first
 * sound (which flows at once), or without sound its first key frame, since
 * FFmpeg's copy of a picture starts at one.
 */
export function fileStartedAt(segment: RecordingSegmentInfo): number {
	return segment.audio ? segment.startedAt : (segment.firstKeyFrameAt ?? segment.startedAt);
}

export interface RecordingManifest {
	version: 1;
	classId: string;
	recordingId: string;
	startedAt: number;
	endedAt: number | null;
	segments: RecordingSegmentInfo[];
}

export const MANIFEST_FILE = 'manifest.json';

export async function writeManifest(dir: string, manifest: RecordingManifest): Promise<void> {
	const file = path.join(dir, MANIFEST_FILE);
	const tmp = `${file}.${process.pid}.tmp`;
	await fs.writeFile(tmp, JSON.stringify(manifest, null, 2));
	await fs.rename(tmp, file);
}

export async function readManifest(dir: string): Promise<RecordingManifest | null> {
	try {
		return JSON.parse(
			await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8')
		) as RecordingManifest;
	} catch {
		return null;
	}
}
