import fs from 'node:fs/promises';
import path from 'node:path';
import type { SessionUser } from '../auth/session.ts';
import { recordAudit } from '../audit.ts';
import { classAccess, may, type AccessFactsSource } from '../class-access.ts';
import type { Db } from '../db/client.ts';
import { readEnv } from '../env.ts';
import {
	WITH_INTERPRETER_FILE,
	type TimelineEntry
} from '../../../../media-server/src/recorder/index.ts';

/** Absolute folder all recordings live under (RECORDINGS_DIR). */
export function recordingsRoot(env = readEnv()): string {
	return path.resolve(env.RECORDINGS_DIR);
}

/** A path stored on a recording, resolved and kept inside RECORDINGS_DIR. */
export function resolveInRoot(relative: string, root = recordingsRoot()): string {
	const full = path.resolve(root, relative);
	if (full !== root && !full.startsWith(root + path.sep)) {
		throw new Error(`recording path escapes RECORDINGS_DIR: ${relative}`);
	}
	return full;
}

export const TIMELINE_FILE = 'timeline.json';

export type RecordingSummary = {
	id: string;
	status: 'RECORDING' | 'PROCESSING' | 'READY' | 'FAILED';
	progress: number;
	visibility: 'REGISTRANTS' | 'PUBLIC';
	durationSeconds: number | null;
	hasPoster: boolean;
	/** The replay plays the class's HLS stream (an H.264 class). */
	hasStream: boolean;
	/** The MP4 download exists (for an HLS replay it follows within a minute). */
	hasMp4: boolean;
	startedAt: string;
	endedAt: string | null;
};

const summarySelect = {
	id: true,
	status: true,
	progress: true,
	visibility: true,
	durationSeconds: true,
	posterPath: true,
	playlistPath: true,
	filePath: true,
	startedAt: true,
	endedAt: true
} as const;

function summary(r: {
	id: string;
	status: RecordingSummary['status'];
	progress: number;
	visibility: RecordingSummary['visibility'];
	durationSeconds: number | null;
	posterPath: string | null;
	playlistPath: string | null;
	filePath: string | null;
	startedAt: Date;
	endedAt: Date | null;
}): RecordingSummary {
	return {
		id: r.id,
		status: r.status,
		progress: r.progress,
		visibility: r.visibility,
		durationSeconds: r.durationSeconds,
		hasPoster: r.posterPath !== null,
		hasStream: r.status === 'READY' && r.playlistPath !== null,
		hasMp4: r.status === 'READY' && r.filePath !== null,
		startedAt: r.startedAt.toISOString(),
		endedAt: r.endedAt?.toISOString() ?? null
	};
}

/** A class's recordings, oldest first. */
export async function listRecordings(db: Db, classId: string): Promise<RecordingSummary[]> {
	const rows = await db.recording.findMany({
		where: { classId },
		select: summarySelect,
		orderBy: [{ startedAt: 'asc' }, { id: 'asc' }]
	});
	return rows.map(summary);
}

export type ViewerAccess = 'manage' | 'view' | 'none';

/**
 * What the class access function allows with one of its recordings: managers
 * manage them, registrants watch, and a public recording is open to everyone.
 */
export async function recordingAccess(
	facts: AccessFactsSource,
	user: SessionUser | null,
	cls: { id: string },
	visibility: 'REGISTRANTS' | 'PUBLIC'
): Promise<ViewerAccess> {
	const access = await classAccess(facts, user, cls.id, { recordingVisibility: visibility });
	if (!access) return 'none';
	if (may.manage(access)) return 'manage';
	return may.watchReplay(access) ? 'view' : 'none';
}

/** What a player needs to follow a class's live HLS stream. */
export type LiveStream = {
	recordingId: string;
	/** The last few segments: where live viewers play. */
	live: string;
	/** Every segment since go-live: rewind. */
	event: string;
	startedAt: string;
};

/** The class's HLS stream while it is being recorded, if the class has one. */
export async function currentStream(db: Db, classId: string): Promise<LiveStream | null> {
	const rec = await db.recording.findFirst({
		where: { classId, status: 'RECORDING', playlistPath: { not: null } },
		orderBy: { startedAt: 'desc' },
		select: { id: true, startedAt: true }
	});
	if (!rec) return null;
	return {
		recordingId: rec.id,
		live: `/recordings/${rec.id}/hls/live.m3u8`,
		event: `/recordings/${rec.id}/hls/index.m3u8`,
		startedAt: rec.startedAt.toISOString()
	};
}

/** The recording with its class, or null for an unknown or malformed id. */
/** The replay also exists with the sign-language interpreter overlaid. */
export async function hasInterpreterVersion(dir: string): Promise<boolean> {
	const stat = await fs
		.stat(path.join(resolveInRoot(dir), WITH_INTERPRETER_FILE))
		.catch(() => null);
	return stat?.isFile() ?? false;
}

export async function getRecording(db: Db, id: string) {
	if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
	return db.recording.findUnique({
		where: { id },
		include: { policyClass: { select: { id: true, instructorId: true, title: true } } }
	});
}

type Actor = Pick<SessionUser, 'id' | 'displayName' | 'role'>;

export async function setVisibility(
	db: Db,
	actor: Actor,
	id: string,
	visibility: 'REGISTRANTS' | 'PUBLIC'
): Promise<void> {
	await db.$transaction(async (tx) => {
		const rec = await tx.recording.update({
			where: { id },
			data: { visibility },
			select: { classId: true, policyClass: { select: { title: true } } }
		});
		await recordAudit(tx, {
			actor,
			action: 'recording.visibility_changed',
			target: { type: 'recording', id, label: rec.policyClass.title },
			classId: rec.classId,
			details: { visibility }
		});
	});
}

/** Removes the row and the files. A running recorder keeps writing until the class ends. */
export async function deleteRecording(db: Db, actor: Actor, id: string): Promise<void> {
	const rec = await db.$transaction(async (tx) => {
		const deleted = await tx.recording.delete({
			where: { id },
			select: { dir: true, classId: true, policyClass: { select: { title: true } } }
		});
		await recordAudit(tx, {
			actor,
			action: 'recording.deleted',
			target: { type: 'recording', id, label: deleted.policyClass.title },
			classId: deleted.classId
		});
		return deleted;
	});
	await fs.rm(resolveInRoot(rec.dir), { recursive: true, force: true });
}

/** Where each stretch of live time landed in the finished video. */
export async function readTimeline(dir: string): Promise<TimelineEntry[]> {
	try {
		const data = JSON.parse(
			await fs.readFile(path.join(resolveInRoot(dir), TIMELINE_FILE), 'utf8')
		);
		return Array.isArray(data) ? (data as TimelineEntry[]) : [];
	} catch {
		return [];
	}
}
