import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
	closeInterruptedSegments,
	compositeInterpreter,
	finalizeRecording,
	finishHlsStream,
	isHlsOnly,
	readManifest,
	EVENT_PLAYLIST,
	type MediaLogger,
	type MediaRecording,
	type MediaService,
	type TimelineEntry
} from '../../../../media-server/src/index.ts';
import type { Db } from '../db/client.ts';
import type { Prisma } from '../db/generated/client.ts';
import type { EventBus } from '../events.ts';
import type { Leases } from '../leases.ts';
import { recordingsRoot, resolveInRoot, TIMELINE_FILE } from './service.ts';

/**
 * Every live class is recorded, as one recording per class: LIVE starts a
 * ClassRecording on the class's room (wherever its media server runs), or
 * resumes the class's recording after a restart (its parts join, the gap cut
 * out). ENDED stops it. An H.264 class's recording is its HLS stream, a
 * replay as soon as the playlist gets #EXT-X-ENDLIST; its MP4 is then
 * remuxed in the background queue. A VP8 recording is re-encoded in that
 * queue (one job at a time).
 *
 * A class with a sign-language interpreter on air also records the
 * interpreter's camera, from its first appearance, in `interpreter/` of the
 * same recording; once the MP4 exists, the queue overlays it into a second
 * MP4 (see compositeInterpreter). Classes without one record as before.
 *
 * With several processes on one database, a class's recording work (the
 * recorder, the finishing, the MP4) is done by the process holding the
 * class's recording lease, from the start to the MP4; others leave it alone.
 * A process that dies with the lease leaves the work to whichever process
 * takes the expired lease first, or to itself, restarted.
 */

const logger: MediaLogger = {
	debug: () => {},
	info: (message, meta) => console.info(`[recording] ${message}`, meta ?? ''),
	warn: (message, meta) => console.warn(`[recording] ${message}`, meta ?? ''),
	error: (message, meta) => console.error(`[recording] ${message}`, meta ?? '')
};

type Started = {
	recordingId: string;
	/** The class's picture and sound, and its interpreter's camera once one is on air. */
	recorder: MediaRecording | null;
	/** stopRecording is ending it (the class ended), so its stop is not a room closing. */
	ending: boolean;
};
type State = {
	getDb: () => Promise<Db>;
	events: EventBus;
	media: () => Promise<MediaService>;
	/** Per class; set before the first await, so concurrent starts share one. */
	recorders: Map<string, Promise<Started | null>>;
	queue: Promise<void>;
	/** Recordings being finished (ENDLIST, poster) before their MP4 is queued. */
	finishing: Set<Promise<void>>;
	leases: Leases;
	/** Classes whose recording work this process holds the lease for. */
	owned: Set<string>;
	started: boolean;
};

// On globalThis so the SvelteKit bundle and modules loaded beside it share it.
const STATE_KEY = Symbol.for('taxpayer-classroom.recordings');
type WithState = { [STATE_KEY]?: State };

function state(): State | undefined {
	return (globalThis as WithState)[STATE_KEY];
}

/** The lease a class's recording work is done under. */
export const recordingLeaseName = (classId: string) => `recording:${classId}`;
const LEASE_PREFIX = recordingLeaseName('');

/**
 * Startup: subscribe to the class lifecycle, then recover what a crash left;
 * from then on, take over the work of processes whose leases expire. Returns
 * what the startup recovery took on.
 */
export async function startRecordings(deps: {
	db: Db;
	events: EventBus;
	media: () => Promise<MediaService>;
	leases: Leases;
	/** Resume the recordings of classes still LIVE after a restart (default true). */
	resumeLive?: boolean;
}): Promise<Recovery> {
	const holder = globalThis as WithState;
	if (holder[STATE_KEY]?.started) return nothingRecovered();
	// A room waits for its recorders to stop before it closes, and an ended
	// class's sockets hear of the end only after that (the media namespace),
	// so FFmpeg writes its last seconds while the media still flows. Hooked
	// where a recorder first takes the media server: recovering finished
	// classes starts none.
	const hooked = new WeakSet<MediaService>();
	const media = async () => {
		const server = await deps.media();
		if (!hooked.has(server)) {
			hooked.add(server);
			server.beforeRoomCloses(stopRecording);
		}
		return server;
	};
	const s: State = {
		getDb: async () => deps.db,
		events: deps.events,
		media,
		recorders: new Map(),
		queue: Promise.resolve(),
		finishing: new Set(),
		leases: deps.leases,
		owned: new Set(),
		started: true
	};
	holder[STATE_KEY] = s;
	// Recording starts where the class went live (where its room is); it stops
	// wherever it runs. A cancelled class's recording is finished like an
	// ended one and stays available to staff.
	deps.events.on('class.lifecycle', 'origin', (event) => {
		// In the background: going live must not wait for FFmpeg.
		if (event.type === 'live') void startRecording(event.classId);
	});
	// Where no room closes (a process without the media namespace), here.
	deps.events.on('class.lifecycle', 'every-process', async (event) => {
		if (event.type === 'ended' || event.type === 'cancelled') {
			await stopRecording(event.classId);
		}
	});
	const resumeLive = deps.resumeLive ?? true;
	// An expired lease is work a dead process left: its class is recovered
	// here as at a restart, by whichever process takes the lease first.
	const orphans = setInterval(() => {
		deps.leases
			.expired(LEASE_PREFIX)
			.then((names) =>
				names.length > 0
					? recoverRecordings({
							resumeLive,
							classIds: names.map((n) => n.slice(LEASE_PREFIX.length))
						})
					: undefined
			)
			.catch((error: unknown) =>
				logger.error('taking over recordings failed', { error: String(error) })
			);
	}, deps.leases.ttlMs);
	orphans.unref();
	try {
		return await recoverRecordings({ resumeLive });
	} catch (error) {
		logger.error('recording recovery failed', { error: String(error) });
		return nothingRecovered();
	}
}

/**
 * Takes the class's recording work for this process: false while another
 * process holds its lease (or the database cannot say).
 */
async function own(s: State, classId: string): Promise<boolean> {
	if (s.owned.has(classId)) return true;
	try {
		if (!(await s.leases.acquire(recordingLeaseName(classId)))) return false;
	} catch (error) {
		logger.error('could not take the recording lease', { classId, error: String(error) });
		return false;
	}
	s.owned.add(classId);
	return true;
}

/** The class's recording work is done here, finished or failed: the lease goes. */
async function disown(s: State, classId: string): Promise<void> {
	s.owned.delete(classId);
	await s.leases.release(recordingLeaseName(classId)).catch((error: unknown) => {
		logger.error('could not release the recording lease', { classId, error: String(error) });
	});
}

/**
 * Starts recording a class, or continues the class's recording that is
 * still open (a restart, a room rebuilt). A second call while recording is
 * a no-op. Resolves with the recording id.
 */
export async function startRecording(classId: string): Promise<string | null> {
	const s = state();
	if (!s) return null;
	let started = s.recorders.get(classId);
	if (!started) {
		started = openRecorder(s, classId);
		s.recorders.set(classId, started);
	}
	return (await started)?.recordingId ?? null;
}

async function openRecorder(s: State, classId: string): Promise<Started | null> {
	if (!(await own(s, classId))) {
		s.recorders.delete(classId);
		logger.info('the class is recorded by another process', { classId });
		return null;
	}
	const db = await s.getDb();
	let open: { id: string; dir: string } | null;
	let recordingId: string;
	let dir: string;
	try {
		open = await db.recording.findFirst({
			where: { classId, status: 'RECORDING' },
			orderBy: { startedAt: 'desc' }
		});
		recordingId = open?.id ?? randomUUID();
		dir = open?.dir ?? path.join(classId, recordingId);
		if (!open) await db.recording.create({ data: { id: recordingId, classId, dir } });
	} catch (error) {
		logger.error('could not open the recording', { classId, error: String(error) });
		s.recorders.delete(classId);
		await disown(s, classId);
		return null;
	}
	try {
		const recorder = await (
			await s.media()
		).record(classId, { recordingId, dir, resume: open !== null });
		if (open) logger.warn('resuming a recording after a restart', { classId, recordingId });
		else {
			await db.recording.update({
				where: { id: recordingId },
				data: { startedAt: new Date(recorder.startedAt) }
			});
		}
		// Live rewind and HLS viewers find the stream through its playlist.
		recorder.once('playlist', () => {
			void db.recording
				.updateMany({
					where: { id: recordingId, playlistPath: null },
					data: { playlistPath: path.join(dir, EVENT_PLAYLIST) }
				})
				.catch(() => undefined);
		});
		const started: Started = { recordingId, recorder, ending: false };
		recorder.once('stopped', ({ endedAt }) => {
			// Stopped by itself (the room closed) rather than by stopRecording.
			if (started.ending) return;
			started.ending = true;
			s.recorders.delete(classId);
			void continueOrFinish(s, classId, recordingId, endedAt);
		});
		return started;
	} catch (error) {
		logger.error('could not start recording', { classId, error: String(error) });
		await db.recording
			.update({
				where: { id: recordingId },
				data: { status: 'FAILED', error: String(error).slice(0, 1000), endedAt: new Date() }
			})
			.catch(() => undefined);
		await disown(s, classId);
		return { recordingId, recorder: null, ending: true };
	}
}

/**
 * Stops the class's recorder; the replay is finished in the background (an
 * HLS one is READY about a second later).
 */
export async function stopRecording(classId: string): Promise<string | null> {
	const s = state();
	const started = s?.recorders.get(classId);
	if (!s || !started) return null;
	s.recorders.delete(classId);
	const entry = await started;
	if (!entry?.recorder || entry.ending) return null;
	const { recordingId, recorder } = entry;
	entry.ending = true;
	const { endedAt } = await recorder.stop();
	track(s, finish(s, classId, recordingId, endedAt));
	return recordingId;
}

/** The class's replay can be watched (the class emails tell its registrants). */
async function announceReady(s: State, classId: string, recordingId: string): Promise<void> {
	await s.events.publish('recording.ready', {
		classId,
		recordingId,
		readyAt: new Date().toISOString()
	});
}

/** Work finalizationIdle() waits for besides the queue. */
function track(s: State, work: Promise<void>): void {
	s.finishing.add(work);
	void work.finally(() => s.finishing.delete(work));
}

/**
 * The end of a recording. HLS: the playlist gets #EXT-X-ENDLIST and the
 * recording is READY (the replay plays the stream), then the MP4 remux is
 * queued. Otherwise it is PROCESSING until the re-encode is done.
 */
async function finish(
	s: State,
	classId: string,
	recordingId: string,
	endedAt: number | null
): Promise<void> {
	try {
		if (await markFinished(s, recordingId, endedAt))
			return enqueueFinalize(s, classId, recordingId);
		logger.warn('recording vanished before finalization', { recordingId });
	} catch (error) {
		logger.error('could not finish the recording', { recordingId, error: String(error) });
	}
	await disown(s, classId);
}

/** READY (an HLS stream) or PROCESSING, with its end; false when the recording is gone. */
async function markFinished(
	s: State,
	recordingId: string,
	endedAt: number | null
): Promise<boolean> {
	const db = await s.getDb();
	const rec = await db.recording.findUnique({ where: { id: recordingId } });
	if (!rec) return false;
	const ended = new Date(endedAt ?? Date.now());
	const dir = resolveInRoot(rec.dir);
	const manifest = await readManifest(dir);
	if (manifest && isHlsOnly(manifest.segments)) {
		const t0 = Date.now();
		try {
			const stream = await finishHlsStream(dir);
			await fs.writeFile(path.join(dir, TIMELINE_FILE), JSON.stringify(stream.timeline));
			await db.recording.update({
				where: { id: recordingId },
				data: {
					status: 'READY',
					progress: 0,
					error: null,
					endedAt: ended,
					playlistPath: path.join(rec.dir, stream.playlist),
					posterPath: stream.poster ? path.join(rec.dir, stream.poster) : null,
					durationSeconds: stream.durationSeconds
				}
			});
			await announceReady(s, rec.classId, recordingId);
			logger.info('replay ready (HLS)', {
				recordingId,
				durationSeconds: Math.round(stream.durationSeconds),
				readyMs: Date.now() - t0
			});
			return true;
		} catch (error) {
			logger.error('could not finish the HLS stream; re-encoding', {
				recordingId,
				error: String(error)
			});
		}
	}
	await db.recording.update({
		where: { id: recordingId },
		data: { status: 'PROCESSING', progress: 0, endedAt: ended }
	});
	return true;
}

/**
 * A room that closed while its class is still LIVE (its media was torn
 * down) gets its recording resumed; otherwise the recording ends here.
 */
async function continueOrFinish(
	s: State,
	classId: string,
	recordingId: string,
	endedAt: number | null
): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, 2000));
	const db = await s.getDb();
	const cls = await db.policyClass.findUnique({ where: { id: classId }, select: { status: true } });
	if (cls?.status === 'LIVE') await startRecording(classId);
	else track(s, finish(s, classId, recordingId, endedAt));
}

/**
 * The finalization job: one at a time, progress written as it goes. The
 * class's recording work ends with it, and its lease is released.
 */
function enqueueFinalize(s: State, classId: string, recordingId: string): void {
	const job = s.queue.then(() => finalizeJob(s, recordingId)).finally(() => disown(s, classId));
	s.queue = job.catch(() => undefined);
}

/** Resolves when every queued finalization has finished (tests, shutdown). */
export async function finalizationIdle(): Promise<void> {
	const s = state();
	if (!s) return;
	while (s.finishing.size > 0) await Promise.all(s.finishing);
	await s.queue;
}

/**
 * The MP4 of a recording: a remux of an HLS stream that is already READY
 * (the replay plays meanwhile), or the re-encode of a PROCESSING one.
 */
async function finalizeJob(s: State, recordingId: string): Promise<void> {
	const db = await s.getDb();
	const rec = await db.recording.findUnique({ where: { id: recordingId } });
	if (!rec || (rec.status === 'READY' && rec.filePath)) return;
	// An HLS replay stays READY while its MP4 is made, and if that fails.
	const stream = rec.status === 'READY' && rec.playlistPath !== null;
	const dir = resolveInRoot(rec.dir);
	const started = Date.now();
	try {
		if (!stream) {
			await db.recording.update({
				where: { id: recordingId },
				data: { status: 'PROCESSING', progress: 0, error: null }
			});
		}
		let writing: Promise<unknown> = Promise.resolve();
		const result = await finalizeRecording(dir, {
			onProgress: (progress) => {
				writing = writing.then(() =>
					db.recording
						.updateMany({
							where: { id: recordingId, status: stream ? 'READY' : 'PROCESSING' },
							data: { progress }
						})
						.catch(() => undefined)
				);
			}
		});
		await writing;
		await fs.writeFile(path.join(dir, TIMELINE_FILE), JSON.stringify(result.timeline));
		// Copied RTP (Matroska) is no longer needed once the MP4 exists; HLS
		// segments are the replay and stay.
		for (const name of await fs.readdir(dir)) {
			if (/^segment-\d+\.(mkv|sdp)$/.test(name)) await fs.rm(path.join(dir, name), { force: true });
		}
		await db.recording.update({
			where: { id: recordingId },
			data: {
				status: 'READY',
				progress: 100,
				error: null,
				filePath: path.join(rec.dir, result.file),
				posterPath: result.poster ? path.join(rec.dir, result.poster) : null,
				durationSeconds: stream ? rec.durationSeconds : result.durationSeconds,
				sizeBytes: BigInt(result.sizeBytes)
			}
		});
		if (!stream) await announceReady(s, rec.classId, recordingId);
		logger.info(stream ? 'replay MP4 remuxed' : 'recording ready', {
			recordingId,
			durationSeconds: Math.round(result.durationSeconds),
			finalizeMs: Date.now() - started,
			skippedSegments: result.skipped.length
		});
		await addInterpreter(dir, result.timeline, recordingId);
	} catch (error) {
		logger.error('recording finalization failed', { recordingId, error: String(error) });
		await db.recording
			.update({
				where: { id: recordingId },
				data: stream
					? { error: String(error).slice(0, 1000) }
					: { status: 'FAILED', error: String(error).slice(0, 1000) }
			})
			.catch(() => undefined);
	}
}

/** The replay with the interpreter overlaid, when one was recorded; the plain one stands either way. */
async function addInterpreter(
	dir: string,
	timeline: TimelineEntry[],
	recordingId: string
): Promise<void> {
	const manifest = await readManifest(dir);
	if (!manifest) return;
	try {
		const file = await compositeInterpreter(dir, timeline, manifest.startedAt);
		if (file) logger.info('replay with the interpreter ready', { recordingId });
	} catch (error) {
		logger.error('could not overlay the interpreter', { recordingId, error: String(error) });
	}
}

/** Recordings whose work is not done: still recording, or their MP4 not made. */
export const UNFINISHED_RECORDING = {
	OR: [
		{ status: { in: ['RECORDING' as const, 'PROCESSING' as const] } },
		{ status: 'READY' as const, playlistPath: { not: null }, filePath: null }
	]
} satisfies Prisma.RecordingWhereInput;

/** What a recovery took on, and left to the processes holding it, by class. */
export type Recovery = {
	/** Classes whose recording this process finishes (or makes the MP4 of). */
	finishing: string[];
	/** LIVE classes whose recording this process resumes. */
	resuming: string[];
	/** Classes whose recording work another process holds. */
	heldElsewhere: string[];
};

const nothingRecovered = (): Recovery => ({ finishing: [], resuming: [], heldElsewhere: [] });

/**
 * At startup, and for the classes of expired leases. A recording still
 * RECORDING whose class is LIVE is resumed (one replay per class); any other
 * ends where its files stop (an FFmpeg the dead process left is stopped) and
 * is finished from what was written. Interrupted MP4 jobs start over. Each
 * class is taken on only with its lease: processes starting together never
 * both finish or resume one class.
 */
export async function recoverRecordings(options: {
	resumeLive: boolean;
	/** Only these classes (default: every class). */
	classIds?: string[];
}): Promise<Recovery> {
	const recovery = nothingRecovered();
	const s = state();
	if (!s) return recovery;
	const db = await s.getDb();
	const { classIds } = options;
	const liveClasses = options.resumeLive
		? await db.policyClass.findMany({
				where: { status: 'LIVE', ...(classIds ? { id: { in: classIds } } : {}) },
				select: { id: true }
			})
		: [];
	const live = new Set(liveClasses.map((c) => c.id));
	const stale = await db.recording.findMany({
		where: { ...(classIds ? { classId: { in: classIds } } : {}), ...UNFINISHED_RECORDING },
		orderBy: { startedAt: 'asc' }
	});
	for (const seen of stale) {
		const { classId } = seen;
		if (s.owned.has(classId) || (seen.status === 'RECORDING' && live.has(classId))) continue;
		if (!(await own(s, classId))) {
			recovery.heldElsewhere.push(classId);
			continue;
		}
		try {
			if (await recoverOne(s, seen.id)) recovery.finishing.push(classId);
			else await disown(s, classId);
		} catch (error) {
			logger.error('could not recover a recording', { recordingId: seen.id, error: String(error) });
			await disown(s, classId);
		}
	}
	for (const classId of live) {
		if (s.owned.has(classId)) continue;
		if (await own(s, classId)) {
			recovery.resuming.push(classId);
			void startRecording(classId);
		} else recovery.heldElsewhere.push(classId);
	}
	return recovery;
}

/**
 * Takes on one unfinished recording whose lease this process holds. False
 * when another process finished it and released the lease since the list was
 * read: there is nothing left to do.
 */
async function recoverOne(s: State, recordingId: string): Promise<boolean> {
	const db = await s.getDb();
	const rec = await db.recording.findFirst({ where: { id: recordingId, ...UNFINISHED_RECORDING } });
	if (!rec) return false;
	if (rec.status !== 'RECORDING') {
		enqueueFinalize(s, rec.classId, rec.id);
		return true;
	}
	const manifest = await closeInterruptedSegments(resolveInRoot(rec.dir));
	if (!manifest || manifest.segments.length === 0) {
		await db.recording.update({
			where: { id: rec.id },
			data: { status: 'FAILED', error: 'nothing was recorded', endedAt: rec.startedAt }
		});
		await disown(s, rec.classId);
		return true;
	}
	const endedAt = Math.max(
		manifest.endedAt ?? 0,
		...manifest.segments.map((segment) => segment.endedAt ?? segment.startedAt)
	);
	logger.warn('finishing a recording interrupted by a restart', { recordingId: rec.id });
	track(s, finish(s, rec.classId, rec.id, endedAt));
	return true;
}

export { recordingsRoot };
