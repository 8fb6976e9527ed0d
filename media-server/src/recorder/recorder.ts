import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { types } from 'mediasoup';
import { INTERPRETER_SOURCE, type ClassRoom, type ProducerInfo } from '../class-room.js';
import { silentLogger, type MediaLogger } from '../logger.js';
import { RUN_PLAYLIST, streamSeconds, writePlaylists } from './hls.js';
import { spawnTied } from './ffmpeg.js';
import {
	readManifest,
	writeManifest,
	type RecordingManifest,
	type RecordingSegmentInfo,
	type SegmentTrack
} from './manifest.js';
import { boundUdpPorts, type PortAllocator } from './ports.js';

export interface ClassRecorderOptions {
	recordingId: string;
	/** Folder for this recording's segments and manifest; created if missing. */
	dir: string;
	ports: PortAllocator;
	logger?: MediaLogger;
	ffmpegPath?: string;
	/** Delay before a new segment after FFmpeg died or the media went away. */
	restartDelayMs?: number;
	/** Coalesces bursts of producer events (a replace is close + add). */
	settleMs?: number;
	/** A segment that has written nothing this long while its media is unpaused is restarted. */
	stallMs?: number;
	/**
	 * Continue the recording already in `dir` (after the app restarted): its
	 * segments stay, new ones follow, and an FFmpeg the old process left
	 * running is stopped.
	 */
	resume?: boolean;
	/** Package H.264 as HLS (default). Off, everything is copied into Matroska and re-encoded later. */
	hls?: boolean;
	/** HLS segment length; the packager asks the publisher for a key frame this often. */
	hlsSegmentSeconds?: number;
	/** Segments in live.m3u8. */
	hlsLiveWindow?: number;
	/** What to record of the room's producers (default: the class's picture and sound). */
	pick?: (producers: ProducerInfo[]) => Wanted;
}

export interface ClassRecorderEvents {
	segmentStarted: [RecordingSegmentInfo];
	segmentEnded: [RecordingSegmentInfo];
	/** The HLS playlists were rewritten; the stream now holds this many segments. */
	playlist: [{ segments: number; seconds: number }];
	stopped: [RecordingManifest];
}

interface Track {
	producer: ProducerInfo;
	transport: types.PlainTransport;
	consumer: types.Consumer;
	port: number;
}

interface LiveSegment {
	info: RecordingSegmentInfo;
	/** What the video carries (appData.source), so a camera ⇄ screen swap starts a new segment. */
	source: unknown;
	child: ChildProcess;
	exited: Promise<void>;
	tracks: Track[];
	stopping: boolean;
	/** A simulcast layer switch asks for a new segment (an HLS discontinuity). */
	restart: boolean;
	/** Media flows to it and the manifest lists it. */
	begun: boolean;
	timers: NodeJS.Timeout[];
}

const LISTEN_IP = '127.0.0.1';
/** Black video or silence stands in for a paused track, so every HLS run has both. */
const FILL_VIDEO = ['-re', '-f', 'lavfi', '-i', 'color=c=black:s=640x360:r=5'];
const FILL_AUDIO = ['-re', '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo'];

export type Wanted = { video?: ProducerInfo; audio?: ProducerInfo };

/**
 * Records one class: joins its ClassRoom as its recorder (a hidden viewer), picks the media
 * to keep (one video, one audio) and pipes it over PlainTransports to one
 * FFmpeg. H.264 video becomes an HLS run (video copied, Opus encoded to AAC,
 * a key frame asked for at every segment boundary) that live viewers and the
 * replay play; VP8 is copied into Matroska and re-encoded at the end.
 * Whenever the chosen sources change (mute, camera/screen switch, simulcast
 * layer switch, producer replaced, worker rebuilt) or FFmpeg dies, the
 * current segment ends and a new one starts; in HLS that is a
 * discontinuity in one stream.
 */
export class ClassRecorder extends EventEmitter<ClassRecorderEvents> {
	readonly room: ClassRoom;
	readonly peerId: string;
	readonly manifest: RecordingManifest;
	readonly #options: Required<Omit<ClassRecorderOptions, 'logger'>> & { logger: MediaLogger };
	#segment: LiveSegment | null = null;
	#chain: Promise<void> = Promise.resolve();
	#timer: NodeJS.Timeout | null = null;
	#stopped = false;
	/** Stalled segments in a row; each waits twice as long before the next restart. */
	#stalls = 0;
	#playlistTimer: NodeJS.Timeout | null = null;
	#playlistWrite: Promise<void> | null = null;
	#playlistVersion = '';
	#listedSegments = -1;
	readonly #onProducer = () => this.#schedule(this.#options.settleMs);
	readonly #onRebuilt = () => this.#schedule(this.#options.settleMs);
	readonly #onClosed = () => void this.stop();

	private constructor(room: ClassRoom, options: ClassRecorderOptions) {
		super();
		this.room = room;
		this.#options = {
			logger: silentLogger,
			ffmpegPath: 'ffmpeg',
			restartDelayMs: 1000,
			settleMs: 250,
			// FFmpeg may probe its RTP input for up to 5 s (its analyzeduration)
			// before it writes; a loaded machine adds to that. A shorter wait
			// restarts a healthy FFmpeg just before its first write.
			stallMs: 12_000,
			resume: false,
			hls: true,
			hlsSegmentSeconds: 1,
			hlsLiveWindow: 6,
			pick: pickSources,
			...options
		};
		this.peerId = `recorder:${options.recordingId}`;
		this.manifest = {
			version: 1,
			classId: room.classId,
			recordingId: options.recordingId,
			startedAt: Date.now(),
			endedAt: null,
			segments: []
		};
	}

	static async start(room: ClassRoom, options: ClassRecorderOptions): Promise<ClassRecorder> {
		const recorder = new ClassRecorder(room, options);
		await fs.mkdir(options.dir, { recursive: true });
		const previous = options.resume ? await readManifest(options.dir) : null;
		if (previous && previous.recordingId === options.recordingId) {
			await closeCrashedSegments(options.dir, previous);
			Object.assign(recorder.manifest, previous, { endedAt: null });
		}
		await writeManifest(options.dir, recorder.manifest);
		room.join(recorder.peerId, 'recorder');
		room.on('producer', recorder.#onProducer);
		room.on('rebuilt', recorder.#onRebuilt);
		room.once('closed', recorder.#onClosed);
		recorder.#playlistTimer = setInterval(() => void recorder.#refreshPlaylists(), 250);
		recorder.#schedule(0);
		return recorder;
	}

	get stopped(): boolean {
		return this.#stopped;
	}

	/** The segment being written, if any. */
	get currentSegment(): RecordingSegmentInfo | null {
		return this.#segment?.begun ? this.#segment.info : null;
	}

	/** Test and ops hook: the FFmpeg of the current segment. */
	get ffmpegPid(): number | undefined {
		return this.#segment?.begun ? this.#segment.child.pid : undefined;
	}

	/** Closes the current segment and leaves the room. Safe to call twice. */
	async stop(): Promise<RecordingManifest> {
		if (!this.#stopped) {
			this.#stopped = true;
			if (this.#timer) clearTimeout(this.#timer);
			this.room.off('producer', this.#onProducer);
			this.room.off('rebuilt', this.#onRebuilt);
			this.room.off('closed', this.#onClosed);
			this.#chain = this.#chain.then(async () => {
				await this.#endSegment(this.#segment, 'stopped');
				if (!this.room.closed) this.room.leave(this.peerId);
				if (this.#playlistTimer) clearInterval(this.#playlistTimer);
				this.manifest.endedAt = Date.now();
				await this.#save();
				await this.#refreshPlaylists(true);
				this.emit('stopped', this.manifest);
			});
		}
		await this.#chain;
		return this.manifest;
	}

	#schedule(delayMs: number): void {
		if (this.#stopped) return;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = setTimeout(() => {
			this.#timer = null;
			this.#chain = this.#chain
				.then(() => this.#reconcile())
				.catch((error: unknown) => {
					this.#options.logger.error('recorder could not start a segment', {
						classId: this.room.classId,
						error: error instanceof Error ? error.message : String(error)
					});
					this.#schedule(this.#options.restartDelayMs);
				});
		}, delayMs);
	}

	/** Makes the running segment match what should be recorded now. */
	async #reconcile(): Promise<void> {
		if (this.#stopped || this.room.closed) return;
		const wanted = this.#options.pick(this.room.listProducers());
		const current = this.#segment;
		if (current) {
			const healthy =
				!current.stopping &&
				current.child.exitCode === null &&
				current.child.signalCode === null &&
				current.tracks.every((t) => !t.consumer.closed && !t.transport.closed);
			const same =
				!current.restart &&
				current.info.video?.producerId === wanted.video?.id &&
				current.source === wanted.video?.appData.source &&
				current.info.audio?.producerId === wanted.audio?.id;
			if (healthy && same) return;
			if (healthy && (wanted.video || wanted.audio)) {
				// Matroska files are joined later, so they switch make-before-break:
				// the old file records until the new one has media. HLS runs are one
				// stream in order: the new FFmpeg gets ready, the old run ends (its
				// last segment written), then the media flows to the new one.
				const overlap = current.info.format === 'mkv' && this.#formatFor(wanted) === 'mkv';
				const end = () => this.#endSegment(current, 'switched');
				try {
					await this.#startSegment(wanted, overlap ? undefined : end);
				} finally {
					await end();
				}
				return;
			}
			await this.#endSegment(current, 'switched');
		}
		if (!wanted.video && !wanted.audio) return;
		await this.#startSegment(wanted);
	}

	/** HLS for H.264 (and for audio alone, with black video), unless the recording is already Matroska. */
	#formatFor(wanted: Wanted): 'mkv' | 'hls' {
		if (!this.#options.hls) return 'mkv';
		if (wanted.video) return /\/h264$/i.test(wanted.video.mimeType) ? 'hls' : 'mkv';
		return this.manifest.segments.some((s) => s.format !== 'hls') ? 'mkv' : 'hls';
	}

	/** `beforeMedia` runs once the new FFmpeg listens, before media flows to it. */
	async #startSegment(wanted: Wanted, beforeMedia?: () => Promise<void>): Promise<void> {
		if (!this.room.hasPeer(this.peerId)) this.room.join(this.peerId, 'recorder');
		const seq = this.manifest.segments.length + 1;
		const name = `${String(seq).padStart(4, '0')}`;
		const format = this.#formatFor(wanted);
		const file = format === 'hls' ? `run-${name}/${RUN_PLAYLIST}` : `segment-${name}.mkv`;
		const tracks: Track[] = [];
		const rtpCapabilities = recorderCapabilities(
			await this.room.request(this.peerId, 'getRouterRtpCapabilities', {})
		);
		try {
			for (const producer of [wanted.video, wanted.audio]) {
				if (!producer) continue;
				tracks.push(await this.#consume(producer, rtpCapabilities));
			}
		} catch (error) {
			for (const t of tracks) this.#releaseTrack(t);
			throw error;
		}
		const sdpFile = path.join(this.#options.dir, `segment-${name}.sdp`);
		await fs.writeFile(sdpFile, buildSdp(tracks));
		const output = path.join(this.#options.dir, file);
		if (format === 'hls') await fs.mkdir(path.dirname(output), { recursive: true });
		const child = spawnTied(
			this.#options.ffmpegPath,
			[
				'-hide_banner',
				'-nostdin',
				'-loglevel',
				process.env.RECORDER_FFMPEG_LOGLEVEL ?? 'error',
				'-protocol_whitelist',
				'file,udp,rtp',
				'-buffer_size',
				'4194304',
				'-reorder_queue_size',
				'200',
				'-fflags',
				'+genpts',
				// Copying needs no frame rate; probing for one holds the file's
				// start back by about 1.3 s, a gap at every source switch.
				'-fpsprobesize',
				'0',
				'-i',
				sdpFile,
				...(format === 'hls'
					? hlsOutput(output, {
							video: Boolean(wanted.video),
							audio: Boolean(wanted.audio),
							segmentSeconds: this.#options.hlsSegmentSeconds
						})
					: matroskaOutput(output))
			],
			{ stdio: ['ignore', 'ignore', 'pipe'] }
		);
		let stderr = '';
		child.stderr?.on('data', (d: Buffer) => {
			if (process.env.RECORDER_FFMPEG_LOGLEVEL) process.stderr.write(d);
			stderr = (stderr + d.toString()).slice(-2000);
		});
		const exited = new Promise<void>((resolve) => {
			child.once('exit', () => resolve());
			child.once('error', () => resolve());
		});
		const info: RecordingSegmentInfo = {
			seq,
			format,
			file,
			pid: child.pid,
			startedAt: Date.now(),
			endedAt: null,
			video: trackInfo(tracks.find((t) => t.consumer.kind === 'video')),
			audio: trackInfo(tracks.find((t) => t.consumer.kind === 'audio'))
		};
		const segment: LiveSegment = {
			info,
			source: wanted.video?.appData.source,
			child,
			exited,
			tracks,
			stopping: false,
			restart: false,
			begun: false,
			timers: []
		};
		this.#segment = segment;
		void exited.then(() => {
			for (const t of tracks) this.#releaseTrack(t);
			if (segment.stopping) return;
			// FFmpeg died on its own: keep what it wrote, start over shortly.
			this.#options.logger.warn('recording FFmpeg exited; starting a new segment', {
				classId: this.room.classId,
				code: child.exitCode,
				signal: child.signalCode,
				stderr: stderr.trim().slice(-500)
			});
			segment.stopping = true;
			for (const timer of segment.timers) clearTimeout(timer);
			info.endedAt = Date.now();
			info.endReason = 'died';
			if (this.#segment === segment) this.#segment = null;
			this.emit('segmentEnded', info);
			this.#chain = this.#chain.then(() => this.#save());
			this.#schedule(this.#options.restartDelayMs);
		});
		for (const t of tracks) {
			const reschedule = () => this.#schedule(this.#options.settleMs);
			t.consumer.once('producerclose', reschedule);
			t.consumer.once('transportclose', reschedule);
			t.consumer.on('producerpause', reschedule);
		}
		// Media flows (and key frames are asked for) only once FFmpeg listens.
		await untilListening(child, tracks);
		await beforeMedia?.();
		if (segment.stopping) return;
		info.startedAt = Date.now();
		this.manifest.segments.push(info);
		segment.begun = true;
		await this.#save();
		await this.#noteFirstKeyFrame(segment);
		for (const t of tracks) {
			if (!t.consumer.closed) await t.consumer.resume().catch(() => undefined);
		}
		this.#requestKeyFrames(segment);
		if (format === 'hls') this.#followLayers(segment);
		this.#watchForMedia(segment, () => stderr);
		this.emit('segmentStarted', info);
		this.#options.logger.info('recording segment started', {
			classId: this.room.classId,
			seq,
			format,
			video: info.video?.mimeType,
			audio: info.audio?.mimeType
		});
	}

	async #consume(producer: ProducerInfo, rtpCapabilities: types.RtpCapabilities): Promise<Track> {
		const port = await this.#options.ports.acquire(LISTEN_IP);
		let transport: types.PlainTransport | undefined;
		try {
			transport = await this.room.createPlainTransport(this.peerId, {
				direction: 'recv',
				listenIp: LISTEN_IP,
				rtcpMux: false,
				comedia: false
			});
			await transport.connect({ ip: LISTEN_IP, port, rtcpPort: port + 1 });
			let consumer: types.Consumer | undefined;
			const grab = (c: types.Consumer) => (consumer = c);
			transport.observer.on('newconsumer', grab);
			try {
				// Paused until FFmpeg listens (the room creates consumers paused).
				await this.room.request(this.peerId, 'consume', {
					transportId: transport.id,
					producerId: producer.id,
					rtpCapabilities
				});
			} finally {
				transport.observer.off('newconsumer', grab);
			}
			if (!consumer) throw new Error('consumer not created');
			if (consumer.type === 'simulcast' || consumer.type === 'svc') {
				await consumer.setPreferredLayers({ spatialLayer: 10, temporalLayer: 10 });
			}
			return { producer, transport, consumer, port };
		} catch (error) {
			transport?.close();
			this.#options.ports.release(port);
			throw error;
		}
	}

	#releaseTrack(track: Track): void {
		if (!track.transport.closed) track.transport.close();
		this.#options.ports.release(track.port);
	}

	/** Sets the segment's firstKeyFrameAt when its first video key frame goes to FFmpeg. */
	async #noteFirstKeyFrame(segment: LiveSegment): Promise<void> {
		const consumer = segment.tracks.find((t) => t.consumer.kind === 'video')?.consumer;
		if (!consumer || consumer.closed) return;
		const onTrace = (trace: types.ConsumerTraceEventData) => {
			if (trace.type !== 'keyframe' || trace.direction !== 'out') return;
			consumer.off('trace', onTrace);
			void consumer.enableTraceEvent([]).catch(() => undefined);
			segment.info.firstKeyFrameAt = Date.now();
			this.#chain = this.#chain.then(() => this.#save());
		};
		consumer.on('trace', onTrace);
		await consumer.enableTraceEvent(['keyframe']).catch(() => undefined);
	}

	/**
	 * Key frames at 0/0.5/1.5/3 s so the segment does not start black; an HLS
	 * run then asks for one at every segment boundary, because a copied
	 * stream can only be cut at a key frame and the browser sends one only
	 * when asked.
	 */
	#requestKeyFrames(segment: LiveSegment): void {
		const video = segment.tracks.find((t) => t.consumer.kind === 'video');
		if (!video) return;
		const ask = () => {
			if (!segment.stopping && !video.consumer.closed) {
				video.consumer.requestKeyFrame().catch(() => undefined);
			}
		};
		for (const ms of [0, 500, 1500, 3000]) setTimeout(ask, ms).unref();
		if (segment.info.format !== 'hls') return;
		const every = setInterval(ask, this.#options.hlsSegmentSeconds * 1000);
		every.unref();
		segment.timers.push(every);
	}

	/**
	 * A simulcast layer switch changes the picture size mid-stream; it starts
	 * a new run, which players see as a discontinuity. The first seconds are
	 * the consumer settling on its layer, not a switch.
	 */
	#followLayers(segment: LiveSegment): void {
		const video = segment.tracks.find((t) => t.consumer.kind === 'video');
		if (!video || video.consumer.type !== 'simulcast') return;
		let settled: number | undefined;
		const settle = setTimeout(() => {
			settled = video.consumer.currentLayers?.spatialLayer ?? -1;
		}, 2000);
		settle.unref();
		segment.timers.push(settle);
		video.consumer.on('layerschange', (layers) => {
			if (settled === undefined || segment.stopping) return;
			const spatial = layers?.spatialLayer ?? -1;
			if (spatial === settled || spatial === -1) return;
			segment.restart = true;
			this.#schedule(this.#options.settleMs);
		});
	}

	/**
	 * Restarts a segment whose FFmpeg has written nothing after stallMs while
	 * its producers are unpaused: whatever stuck it, the rest of the class is
	 * still recorded. A source that really sends nothing is retried ever more
	 * slowly, up to once a minute.
	 */
	#watchForMedia(segment: LiveSegment, stderr: () => string): void {
		const current = () => !segment.stopping && this.#segment === segment;
		const wait = Math.min(this.#options.stallMs * 2 ** this.#stalls, 60_000);
		setTimeout(async () => {
			if (!current() || segment.tracks.every((t) => t.consumer.producerPaused)) return;
			const size = await bytesWritten(this.#options.dir, segment.info);
			if (size > 0) this.#stalls = 0;
			if (size > 0 || !current()) return;
			this.#stalls++;
			this.#options.logger.warn('recording segment got no media; starting a new one', {
				classId: this.room.classId,
				seq: segment.info.seq,
				// Whether the SFU sent anything tells a dead source from a stuck FFmpeg.
				packetsSent: await packetsSent(segment.tracks),
				stderr: stderr().trim().slice(-500)
			});
			this.#chain = this.#chain
				.then(() => this.#endSegment(segment, 'stalled'))
				.catch(() => undefined);
			this.#schedule(0);
		}, wait).unref();
	}

	async #endSegment(
		segment: LiveSegment | null,
		reason: NonNullable<RecordingSegmentInfo['endReason']>
	): Promise<void> {
		if (!segment) return;
		if (this.#segment === segment) this.#segment = null;
		if (segment.stopping) return;
		segment.stopping = true;
		for (const timer of segment.timers) clearTimeout(timer);
		const child = segment.child;
		const running = child.exitCode === null && child.signalCode === null;
		if (running && reason === 'stalled') {
			// It has written nothing, so killing it loses nothing; stopped
			// gracefully it would write a run with a track that never got
			// media and so has no parameters, which the MP4 cannot take.
			child.kill('SIGKILL');
			await segment.exited;
		} else if (running) {
			// SIGINT while the media still flows: FFmpeg only notices it between
			// packets, then writes the Matroska index or the last HLS segment and
			// playlist. Matroska: a second SIGINT aborts a blocked read, SIGKILL if
			// it hangs; flushed clusters survive that. HLS: a second SIGINT would
			// also abort the final writes and leave an empty playlist, so SIGKILL
			// instead, which keeps every segment listed so far.
			child.kill('SIGINT');
			const hls = segment.info.format === 'hls';
			const again = setTimeout(() => child.kill(hls ? 'SIGKILL' : 'SIGINT'), hls ? 1500 : 2000);
			const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
			await segment.exited;
			clearTimeout(again);
			clearTimeout(kill);
		}
		for (const t of segment.tracks) if (!t.transport.closed) t.transport.close();
		segment.info.endedAt = Date.now();
		segment.info.endReason = reason;
		await this.#save();
		await this.#refreshPlaylists(true);
		this.emit('segmentEnded', segment.info);
	}

	/**
	 * Rewrites the joined playlists when a run has finished another segment.
	 * The poll skips while a write is under way; `force` waits for it and
	 * writes again, so the last segment of a stopped run is listed.
	 */
	async #refreshPlaylists(force = false): Promise<void> {
		if (this.#playlistWrite) {
			if (!force) return;
			await this.#playlistWrite;
		}
		const write = this.#writePlaylists(force);
		this.#playlistWrite = write;
		try {
			await write;
		} finally {
			if (this.#playlistWrite === write) this.#playlistWrite = null;
		}
	}

	/** Rewrites the playlists when the newest run's own playlist changed (or when forced). */
	async #writePlaylists(force: boolean): Promise<void> {
		const newest = this.manifest.segments.findLast((s) => s.format === 'hls');
		if (!newest) return;
		const stat = await fs.stat(path.join(this.#options.dir, newest.file)).catch(() => null);
		const version = `${this.manifest.segments.length}:${stat?.size}:${stat?.mtimeMs}`;
		if (!force && version === this.#playlistVersion) return;
		this.#playlistVersion = version;
		try {
			const runs = await writePlaylists(this.#options.dir, this.manifest, {
				segmentSeconds: this.#options.hlsSegmentSeconds,
				window: this.#options.hlsLiveWindow,
				ended: false
			});
			const segments = runs.reduce((sum, r) => sum + r.segments.length, 0);
			if (segments !== this.#listedSegments) {
				this.#listedSegments = segments;
				this.emit('playlist', { segments, seconds: streamSeconds(runs) });
			}
		} catch (error) {
			this.#options.logger.error('could not write the HLS playlists', {
				classId: this.room.classId,
				error: error instanceof Error ? error.message : String(error)
			});
		}
	}

	async #save(): Promise<void> {
		await writeManifest(this.#options.dir, this.manifest).catch((error: unknown) =>
			this.#options.logger.error('could not write recording manifest', {
				classId: this.room.classId,
				error: error instanceof Error ? error.message : String(error)
			})
		);
	}
}

const SCREEN = /screen|share|display/i;

/**
 * One video and one audio to record: a screen share wins over a camera, then
 * the newest unpaused producer of each kind; never the interpreter's camera.
 */
export function pickSources(producers: ProducerInfo[]): {
	video?: ProducerInfo;
	audio?: ProducerInfo;
} {
	// The interpreter's camera is not the class picture.
	const live = producers.filter((p) => !p.paused && p.appData.source !== INTERPRETER_SOURCE);
	const videos = live.filter((p) => p.kind === 'video');
	const isScreen = (p: ProducerInfo) =>
		Object.values(p.appData).some((v) => typeof v === 'string' && SCREEN.test(v));
	const video = videos.filter(isScreen).at(-1) ?? videos.at(-1);
	const audio = live.filter((p) => p.kind === 'audio').at(-1);
	return { video, audio };
}

/** The sign-language interpreter's camera alone: its own recording, overlaid at finalize. */
export function pickInterpreter(producers: ProducerInfo[]): Wanted {
	const video = producers
		.filter((p) => !p.paused && p.kind === 'video' && p.appData.source === INTERPRETER_SOURCE)
		.at(-1);
	return { video };
}

/** The router's codecs without RTX or feedback: FFmpeg only needs the media. */
function recorderCapabilities(router: types.RtpCapabilities): types.RtpCapabilities {
	return {
		codecs: (router.codecs ?? [])
			.filter((c) => !/\/rtx$/i.test(c.mimeType))
			.map((c) => ({ ...c, rtcpFeedback: [] })),
		headerExtensions: []
	};
}

function trackInfo(track: Track | undefined): SegmentTrack | null {
	if (!track) return null;
	const codec = track.consumer.rtpParameters.codecs[0];
	return { producerId: track.producer.id, mimeType: codec?.mimeType ?? 'unknown' };
}

function buildSdp(tracks: Track[]): string {
	const lines = [
		'v=0',
		`o=- 0 0 IN IP4 ${LISTEN_IP}`,
		's=taxpayer-classroom recording',
		`c=IN IP4 ${LISTEN_IP}`,
		't=0 0'
	];
	for (const { consumer, port } of tracks) {
		const codec = consumer.rtpParameters.codecs[0];
		if (!codec) continue;
		const pt = codec.payloadType;
		const [, name] = codec.mimeType.split('/');
		lines.push(`m=${consumer.kind} ${port} RTP/AVP ${pt}`);
		const channels = codec.channels && codec.channels > 1 ? `/${codec.channels}` : '';
		lines.push(`a=rtpmap:${pt} ${name}/${codec.clockRate}${channels}`);
		const fmtp = Object.entries(codec.parameters ?? {})
			.filter(([k]) => !k.startsWith('x-google'))
			.map(([k, v]) => `${k}=${v}`)
			.join(';');
		if (fmtp) lines.push(`a=fmtp:${pt} ${fmtp}`);
		lines.push('a=recvonly');
	}
	return lines.join('\r\n') + '\r\n';
}

function matroskaOutput(file: string): string[] {
	return [
		'-map',
		'0',
		'-c',
		'copy',
		// Short clusters written through at once, so a killed FFmpeg (or a
		// server crash) loses at most about a second.
		'-flush_packets',
		'1',
		'-cluster_time_limit',
		'1000',
		'-f',
		'matroska',
		'-y',
		file
	];
}

/**
 * H.264 copied, Opus to AAC, into MPEG-TS segments cut at key frames. A
 * paused track is replaced by black video (a few kbit/s of H.264 at 5 fps)
 * or silence, so players always get both. Segments are written as .tmp and
 * renamed when complete, so nothing serves half a segment.
 */
function hlsOutput(
	playlist: string,
	has: { video: boolean; audio: boolean; segmentSeconds: number }
): string[] {
	const inputs: string[] = [];
	let next = 1;
	let video = '0:v:0';
	let audio = '0:a:0';
	if (!has.video) {
		inputs.push(...FILL_VIDEO);
		video = `${next++}:v:0`;
	}
	if (!has.audio) {
		inputs.push(...FILL_AUDIO);
		audio = `${next}:a:0`;
	}
	const runDir = path.dirname(playlist);
	return [
		...inputs,
		'-map',
		video,
		'-map',
		audio,
		...(has.video
			? ['-c:v', 'copy']
			: [
					...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'stillimage'],
					...['-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '5', '-r', '5']
				]),
		// The fast AAC coder: a fraction of the default's CPU, transparent at 96 kbit/s for speech.
		...['-c:a', 'aac', '-aac_coder', 'fast', '-b:a', '96k', '-ar', '48000', '-ac', '2'],
		...['-af', 'aresample=async=1000'],
		...['-f', 'hls', '-hls_time', String(has.segmentSeconds), '-hls_list_size', '0'],
		...['-hls_playlist_type', 'event', '-hls_flags', 'temp_file+independent_segments'],
		...['-hls_segment_type', 'mpegts'],
		...['-hls_segment_filename', path.join(runDir, 'seg-%05d.ts')],
		'-y',
		playlist
	];
}

/** RTP packets each track's consumer has sent to FFmpeg, by kind. */
async function packetsSent(tracks: Track[]): Promise<Record<string, number | null>> {
	const sent: Record<string, number | null> = {};
	for (const t of tracks) {
		const stats = await t.consumer.getStats().catch(() => []);
		const outbound = stats.find((s) => s.type === 'outbound-rtp');
		sent[t.consumer.kind] = outbound?.packetCount ?? null;
	}
	return sent;
}

/** Bytes FFmpeg has written for the segment (an HLS run counts its unfinished .tmp too). */
async function bytesWritten(dir: string, info: RecordingSegmentInfo): Promise<number> {
	const file = path.join(dir, info.file);
	if (info.format !== 'hls') return (await fs.stat(file).catch(() => null))?.size ?? 0;
	const runDir = path.dirname(file);
	let total = 0;
	for (const name of await fs.readdir(runDir).catch(() => [])) {
		total += (await fs.stat(path.join(runDir, name)).catch(() => null))?.size ?? 0;
	}
	return total;
}

/**
 * After a crash: segments without an end get one (the last write to their
 * files), and an FFmpeg the dead process left behind (its media gone, it
 * would wait forever) is stopped. Saves the manifest; returns it (null when
 * the folder has none).
 */
export async function closeInterruptedSegments(dir: string): Promise<RecordingManifest | null> {
	const manifest = await readManifest(dir);
	if (!manifest) return null;
	await closeCrashedSegments(dir, manifest);
	await writeManifest(dir, manifest);
	return manifest;
}

async function closeCrashedSegments(dir: string, manifest: RecordingManifest): Promise<void> {
	for (const segment of manifest.segments) {
		if (segment.endedAt !== null) continue;
		if (segment.pid) await stopOrphan(segment.pid, dir);
		const file = path.join(dir, segment.file);
		const target = segment.format === 'hls' ? path.dirname(file) : file;
		const stat = await fs.stat(target).catch(() => null);
		segment.endedAt = Math.max(segment.startedAt, stat?.mtimeMs ?? segment.startedAt);
		segment.endReason = 'crashed';
	}
}

async function stopOrphan(pid: number, dir: string): Promise<void> {
	const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
	// Only if that pid is still our FFmpeg (pids are reused).
	if (!cmdline.includes(dir)) return;
	try {
		process.kill(pid, 'SIGKILL');
	} catch {
		return;
	}
	for (let i = 0; i < 50 && (await fs.stat(`/proc/${pid}`).catch(() => null)); i++) {
		await delay(20);
	}
}

/**
 * Waits until FFmpeg has bound every track's RTP port. Until then what the
 * consumers send is lost, the first key frame with it, and a loaded machine
 * can take well over a second to start FFmpeg. Gives up after 5 s or when
 * FFmpeg exits: the exit handler and the stall watchdog take it from there.
 */
async function untilListening(child: ChildProcess, tracks: Track[]): Promise<void> {
	const ports = tracks.map((t) => t.port);
	const deadline = Date.now() + 5000;
	while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
		const bound = await boundUdpPorts(ports);
		// Without /proc, FFmpeg's usual start-up time.
		if (!bound) return delay(200);
		if (bound.size === ports.length) return;
		await delay(20);
	}
}

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
