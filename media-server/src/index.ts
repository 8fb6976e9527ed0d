import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { types } from 'mediasoup';
import { addRoomLoad, ClassRoom, emptyRoomLoad, MediaRequestError } from './class-room.js';
import { mediaCodecs } from './codecs.js';
import {
	parseMediaServerConfig,
	type MediaServerConfig,
	type MediaServerConfigInput
} from './config.js';
import { silentLogger, type MediaLogger } from './logger.js';
import type { MediaLoad, MediaService } from './media-service.js';
import { ClassRecording, type ClassRecordingOptions } from './recorder/class-recording.js';
import { recordingConfigFromEnv } from './recorder/index.js';
import { PortAllocator } from './recorder/ports.js';
import {
	WorkerPool,
	type WorkerDiedEvent,
	type WorkerReplacedEvent,
	type WorkerStats
} from './worker-pool.js';

export * from './class-room.js';
export { mediaCodecs } from './codecs.js';
export {
	mediaServerConfigFromEnv,
	mediaServerConfigSchema,
	parseMediaServerConfig,
	webRtcViewerCapacity,
	type MediaServerConfig,
	type MediaServerConfigInput
} from './config.js';
export { silentLogger, type MediaLogger } from './logger.js';
export type { WorkerDiedEvent, WorkerReplacedEvent, WorkerStats } from './worker-pool.js';
export * from './recorder/index.js';
export * from './media-service.js';
export * from './control/protocol.js';
export {
	ClassRecording,
	type ClassRecordingEvents,
	type ClassRecordingOptions,
	type RecordingStopped
} from './recorder/class-recording.js';

export interface MediaServerEvents {
	workerDied: [WorkerDiedEvent];
	workerReplaced: [WorkerReplacedEvent];
}

export interface MediaServerOptions {
	logger?: MediaLogger;
	/** Where record() writes: recordings' folders are relative to it (default ./data/recordings). */
	recordingsDir?: string;
}

/**
 * The SFU as the app sees it: one ClassRoom per live class on a pool of
 * mediasoup workers. The app's signaling layer authenticates and authorizes
 * peers, then relays their requests to room.request().
 */
export class MediaServer extends EventEmitter<MediaServerEvents> implements MediaService {
	readonly config: MediaServerConfig;
	readonly serverId = null;
	/**
	 * What every room's routers offer: they all share one codec list. A page
	 * can hand it to the browser, which then loads its Device while signaling
	 * connects instead of after the join.
	 */
	readonly routerRtpCapabilities: types.RtpCapabilities;
	readonly #pool: WorkerPool;
	readonly #logger: MediaLogger;
	readonly #rooms = new Map<string, Promise<ClassRoom>>();
	readonly #beforeClose: ((classId: string) => Promise<unknown>)[] = [];
	readonly #recordingsDir: string;
	readonly #recordings = new Map<string, Promise<ClassRecording>>();
	#ports: PortAllocator | undefined;

	/** Use createMediaServer(). */
	constructor(
		config: MediaServerConfig,
		pool: WorkerPool,
		logger: MediaLogger,
		routerRtpCapabilities: types.RtpCapabilities,
		recordingsDir: string
	) {
		super();
		this.config = config;
		this.routerRtpCapabilities = routerRtpCapabilities;
		this.#pool = pool;
		this.#logger = logger;
		this.#recordingsDir = recordingsDir;
		pool.on('workerDied', (event) => this.emit('workerDied', event));
		pool.on('workerReplaced', (event) => this.emit('workerReplaced', event));
	}

	/** The class's room, created on first use; concurrent callers share one. */
	getOrCreateRoom(classId: string): Promise<ClassRoom> {
		let room = this.#rooms.get(classId);
		if (!room) {
			room = ClassRoom.create(classId, this.config, this.#pool, this.#logger);
			this.#rooms.set(classId, room);
			room.then(
				(r) =>
					r.once('closed', () => {
						if (this.#rooms.get(classId) === room) this.#rooms.delete(classId);
					}),
				() => this.#rooms.delete(classId)
			);
		}
		return room;
	}

	async getRoom(classId: string): Promise<ClassRoom | undefined> {
		return this.#rooms.get(classId);
	}

	/**
	 * Runs `finish` (awaited) before any room closes through closeRoom(): a
	 * recorder writes its last seconds while the media still flows.
	 */
	beforeRoomCloses(finish: (classId: string) => Promise<unknown>): void {
		this.#beforeClose.push(finish);
	}

	/**
	 * Closes the class's room after the beforeRoomCloses hooks. `beforeClosing`
	 * runs between the two (and alone when this server has no such room): an
	 * ended class hears of its end once its recorders have stopped, while its
	 * transports are still open.
	 */
	async closeRoom(classId: string, beforeClosing?: () => void): Promise<void> {
		const room = await this.#rooms.get(classId)?.catch(() => undefined);
		if (room) await Promise.allSettled(this.#beforeClose.map((finish) => finish(classId)));
		beforeClosing?.();
		room?.close();
	}

	async record(classId: string, options: ClassRecordingOptions): Promise<ClassRecording> {
		let recording = this.#recordings.get(options.recordingId);
		if (!recording) {
			const root = this.#recordingsDir;
			const dir = path.resolve(root, options.dir);
			if (!dir.startsWith(root + path.sep)) {
				throw new MediaRequestError(`recording folder escapes ${root}`);
			}
			// Ports are read from the environment when first needed: most processes record nothing.
			const config = recordingConfigFromEnv();
			this.#ports ??= new PortAllocator(config.minPort, config.maxPort);
			const ports = this.#ports;
			recording = this.getOrCreateRoom(classId).then((room) =>
				ClassRecording.start(room, { ...options, dir, ports, logger: this.#logger })
			);
			const entry = recording;
			this.#recordings.set(options.recordingId, entry);
			const forget = () => {
				if (this.#recordings.get(options.recordingId) === entry) {
					this.#recordings.delete(options.recordingId);
				}
			};
			entry.then((r) => r.once('stopped', forget), forget);
		}
		return recording;
	}

	/** The recording running under this id, if any. */
	async runningRecording(recordingId: string): Promise<ClassRecording | undefined> {
		return this.#recordings.get(recordingId)?.catch(() => undefined);
	}

	get roomIds(): string[] {
		return [...this.#rooms.keys()];
	}

	getWorkerStats(): Promise<WorkerStats[]> {
		return this.#pool.getStats();
	}

	async getLoad(): Promise<MediaLoad> {
		const classIds = [...this.#rooms.keys()];
		const [workers, rooms] = await Promise.all([
			this.#pool.getStats(),
			Promise.allSettled(this.#rooms.values())
		]);
		const load: MediaLoad = { workers, rooms: 0, classes: [], ...emptyRoomLoad() };
		rooms.forEach((settled, i) => {
			if (settled.status !== 'fulfilled' || settled.value.closed) return;
			const room = settled.value.load();
			load.rooms++;
			load.classes.push({ classId: classIds[i]!, ...room });
			addRoomLoad(load, room);
		});
		return load;
	}

	async close(): Promise<void> {
		const rooms = await Promise.allSettled(this.#rooms.values());
		for (const r of rooms) if (r.status === 'fulfilled') r.value.close();
		this.#rooms.clear();
		this.#pool.close();
	}
}

export async function createMediaServer(
	config: MediaServerConfigInput | MediaServerConfig = {},
	options: MediaServerOptions = {}
): Promise<MediaServer> {
	const parsed = parseMediaServerConfig(config);
	const logger = options.logger ?? silentLogger;
	const pool = await WorkerPool.create(parsed, logger);
	const probe = await (await pool.pick()).createRouter({ mediaCodecs });
	const { rtpCapabilities } = probe;
	probe.close();
	const recordingsDir = path.resolve(options.recordingsDir ?? 'data/recordings');
	return new MediaServer(parsed, pool, logger, rtpCapabilities, recordingsDir);
}
