import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
	ClassRecorder,
	finalizeRecording,
	PortAllocator,
	readManifest,
	recordingConfigFromEnv,
	type MediaLogger
} from '../../../../media-server/src/index.ts';
import type { Db } from '../db/client.ts';
import { onLiveStatusChange } from '../live-status.ts';
import { getMediaServer } from '../media/media-service.ts';
import { recordingsRoot, resolveInRoot, TIMELINE_FILE } from './service.ts';

/**
 * Every live class is recorded: LIVE starts a ClassRecorder on the class's
 * room, ENDED stops it and queues the finalization job (one at a time; it
 * re-encodes). At startup, recordings a crash left behind are finalized from
 * what is on disk.
 */

const logger: MediaLogger = {
	debug: () => {},
	info: (message, meta) => console.info(`[recording] ${message}`, meta ?? ''),
	warn: (message, meta) => console.warn(`[recording] ${message}`, meta ?? ''),
	error: (message, meta) => console.error(`[recording] ${message}`, meta ?? '')
};

type Entry = { recordingId: string; recorder: Promise<ClassRecorder | null> };
type State = {
	getDb: () => Promise<Db>;
	recorders: Map<string, Entry>;
	queue: Promise<void>;
	ports: PortAllocator;
	started: boolean;
};

// On globalThis so the SvelteKit bundle and modules loaded beside it share it.
const STATE_KEY = Symbol.for('taxpayer-classroom.recordings');
type WithState = { [STATE_KEY]?: State };

function state(): State | undefined {
	return (globalThis as WithState)[STATE_KEY];
}

/** Startup: subscribe to live transitions, then recover what a crash left. */
export async function startRecordings(deps: {
	getDb: () => Promise<Db>;
	/** Start new recordings for classes still LIVE after a restart (default true). */
	resumeLive?: boolean;
}): Promise<void> {
	const holder = globalThis as WithState;
	if (holder[STATE_KEY]?.started) return;
	const config = recordingConfigFromEnv();
	const s: State = {
		getDb: deps.getDb,
		recorders: new Map(),
		queue: Promise.resolve(),
		ports: new PortAllocator(config.minPort, config.maxPort),
		started: true
	};
	holder[STATE_KEY] = s;
	onLiveStatusChange((change) => {
		// In the background: going live must not wait for FFmpeg.
		if (change.status === 'LIVE') void startRecording(change.classId);
		else void stopRecording(change.classId);
	});
	try {
		await recoverRecordings(deps.resumeLive ?? true);
	} catch (error) {
		logger.error('recording recovery failed', { error: String(error) });
	}
}

/** Starts recording a class (once; a second call while recording is a no-op). */
export async function startRecording(classId: string): Promise<string | null> {
	const s = state();
	if (!s) return null;
	const existing = s.recorders.get(classId);
	if (existing) return existing.recordingId;
	const db = await s.getDb();
	const recordingId = randomUUID();
	const dir = path.join(classId, recordingId);
	const entry: Entry = {
		recordingId,
		recorder: (async () => {
			await db.recording.create({ data: { id: recordingId, classId, dir } });
			try {
				const room = await (await getMediaServer()).getOrCreateRoom(classId);
				const recorder = await ClassRecorder.start(room, {
					recordingId,
					dir: resolveInRoot(dir),
					ports: s.ports,
					logger
				});
				await db.recording.update({
					where: { id: recordingId },
					data: { startedAt: new Date(recorder.manifest.startedAt) }
				});
				recorder.once('stopped', (manifest) => {
					// Stopped by itself (the room closed) rather than by stopRecording.
					if (s.recorders.get(classId) !== entry) return;
					s.recorders.delete(classId);
					void finish(s, recordingId, manifest.endedAt).then(() => resumeIfLive(s, classId));
				});
				return recorder;
			} catch (error) {
				logger.error('could not start recording', { classId, error: String(error) });
				await db.recording
					.update({
						where: { id: recordingId },
						data: { status: 'FAILED', error: String(error).slice(0, 1000), endedAt: new Date() }
					})
					.catch(() => undefined);
				return null;
			}
		})()
	};
	s.recorders.set(classId, entry);
	await entry.recorder;
	return recordingId;
}

/** Stops the class's recorder and queues finalization. Resolves once queued. */
export async function stopRecording(classId: string): Promise<string | null> {
	const s = state();
	const entry = s?.recorders.get(classId);
	if (!s || !entry) return null;
	s.recorders.delete(classId);
	const recorder = await entry.recorder;
	if (!recorder) return null;
	const manifest = await recorder.stop();
	await finish(s, entry.recordingId, manifest.endedAt);
	return entry.recordingId;
}

async function finish(s: State, recordingId: string, endedAt: number | null): Promise<void> {
	const db = await s.getDb();
	await db.recording
		.update({
			where: { id: recordingId },
			data: { status: 'PROCESSING', progress: 0, endedAt: new Date(endedAt ?? Date.now()) }
		})
		.then(() => void enqueueFinalize(recordingId))
		.catch(() => logger.warn('recording vanished before finalization', { recordingId }));
}

/** A room that closed while its class is still LIVE gets a new recording. */
async function resumeIfLive(s: State, classId: string): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, 2000));
	const db = await s.getDb();
	const cls = await db.policyClass.findUnique({ where: { id: classId }, select: { status: true } });
	if (cls?.status === 'LIVE') await startRecording(classId);
}

/** The finalization job: one at a time, progress written as it goes. */
export function enqueueFinalize(recordingId: string): Promise<void> {
	const s = state();
	if (!s) return Promise.resolve();
	const job = s.queue.then(() => finalizeJob(s, recordingId));
	s.queue = job.catch(() => undefined);
	return job;
}

/** Resolves when every queued finalization has finished (tests, shutdown). */
export async function finalizationIdle(): Promise<void> {
	const s = state();
	if (s) await s.queue;
}

async function finalizeJob(s: State, recordingId: string): Promise<void> {
	const db = await s.getDb();
	const rec = await db.recording.findUnique({ where: { id: recordingId } });
	if (!rec || rec.status === 'READY') return;
	const dir = resolveInRoot(rec.dir);
	const started = Date.now();
	try {
		await db.recording.update({
			where: { id: recordingId },
			data: { status: 'PROCESSING', progress: 0, error: null }
		});
		let writing: Promise<unknown> = Promise.resolve();
		const result = await finalizeRecording(dir, {
			onProgress: (progress) => {
				writing = writing.then(() =>
					db.recording
						.updateMany({ where: { id: recordingId, status: 'PROCESSING' }, data: { progress } })
						.catch(() => undefined)
				);
			}
		});
		await writing;
		await fs.writeFile(path.join(dir, TIMELINE_FILE), JSON.stringify(result.timeline));
		// The copied RTP segments are no longer needed once the MP4 exists.
		for (const name of await fs.readdir(dir)) {
			if (/^segment-\d+\.(mkv|sdp)$/.test(name)) await fs.rm(path.join(dir, name), { force: true });
		}
		await db.recording.update({
			where: { id: recordingId },
			data: {
				status: 'READY',
				progress: 100,
				filePath: path.join(rec.dir, result.file),
				posterPath: result.poster ? path.join(rec.dir, result.poster) : null,
				durationSeconds: result.durationSeconds,
				sizeBytes: BigInt(result.sizeBytes)
			}
		});
		logger.info('recording ready', {
			recordingId,
			durationSeconds: Math.round(result.durationSeconds),
			finalizeMs: Date.now() - started,
			skippedSegments: result.skipped.length
		});
	} catch (error) {
		logger.error('recording finalization failed', { recordingId, error: String(error) });
		await db.recording
			.update({
				where: { id: recordingId },
				data: { status: 'FAILED', error: String(error).slice(0, 1000) }
			})
			.catch(() => undefined);
	}
}

/**
 * After a crash: recordings still RECORDING end where their last segment's
 * file stops, and are finalized with whatever was written; interrupted
 * finalizations start over. Classes still LIVE get a new recording.
 */
export async function recoverRecordings(resumeLive = true): Promise<void> {
	const s = state();
	if (!s) return;
	const db = await s.getDb();
	const live = new Set([...s.recorders.values()].map((e) => e.recordingId));
	const stale = await db.recording.findMany({
		where: { status: { in: ['RECORDING', 'PROCESSING'] } },
		orderBy: { startedAt: 'asc' }
	});
	for (const rec of stale) {
		if (live.has(rec.id)) continue;
		if (rec.status === 'RECORDING') {
			const dir = resolveInRoot(rec.dir);
			const manifest = await readManifest(dir);
			let endedAt = manifest?.endedAt ?? null;
			for (const segment of manifest?.segments ?? []) {
				const stat = await fs.stat(path.join(dir, segment.file)).catch(() => null);
				endedAt = Math.max(endedAt ?? 0, segment.endedAt ?? stat?.mtimeMs ?? segment.startedAt);
			}
			await db.recording.update({
				where: { id: rec.id },
				data: {
					status: manifest && manifest.segments.length > 0 ? 'PROCESSING' : 'FAILED',
					error: manifest && manifest.segments.length > 0 ? null : 'nothing was recorded',
					endedAt: new Date(endedAt ?? rec.startedAt.getTime())
				}
			});
			if (!manifest || manifest.segments.length === 0) continue;
			logger.warn('finalizing a recording interrupted by a restart', { recordingId: rec.id });
		}
		void enqueueFinalize(rec.id);
	}
	if (!resumeLive) return;
	const liveClasses = await db.policyClass.findMany({
		where: { status: 'LIVE' },
		select: { id: true }
	});
	for (const cls of liveClasses) void startRecording(cls.id);
}

export { recordingsRoot };
