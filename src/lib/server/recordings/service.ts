import fs from 'node:fs/promises';
import path from 'node:path';
import type { SessionUser } from '../auth/session.ts';
import type { Db } from '../db/client.ts';
import { readEnv } from '../env.ts';
import type { TimelineEntry } from '../../../../media-server/src/recorder/index.ts';

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
 * Who may see a class's recordings: staff, admins and the instructor manage
 * them; confirmed registrants watch; a public recording is open to everyone.
 */
export async function recordingAccess(
	db: Db,
	user: SessionUser | null,
	cls: { id: string; instructorId: string },
	visibility: 'REGISTRANTS' | 'PUBLIC'
): Promise<ViewerAccess> {
	if (user && (user.role === 'STAFF' || user.role === 'ADMIN' || user.id === cls.instructorId)) {
		return 'manage';
	}
	if (visibility === 'PUBLIC') return 'view';
	if (!user) return 'none';
	const registration = await db.registration.findFirst({
		where: { classId: cls.id, userId: user.id, status: 'CONFIRMED' },
		select: { id: true }
	});
	return registration ? 'view' : 'none';
}

/** The recording with its class, or null for an unknown or malformed id. */
export async function getRecording(db: Db, id: string) {
	if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
	return db.recording.findUnique({
		where: { id },
		include: { policyClass: { select: { id: true, instructorId: true, title: true } } }
	});
}

export async function setVisibility(
	db: Db,
	id: string,
	visibility: 'REGISTRANTS' | 'PUBLIC'
): Promise<void> {
	await db.recording.update({ where: { id }, data: { visibility } });
}

/** Removes the row and the files. A running recorder keeps writing until the class ends. */
export async function deleteRecording(db: Db, id: string): Promise<void> {
	const rec = await db.recording.delete({ where: { id } });
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
