import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { types } from 'mediasoup';
import type { ClassRoom, ProducerInfo } from '../class-room.js';
import { silentLogger, type MediaLogger } from '../logger.js';
import {
	writeManifest,
	type RecordingManifest,
	type RecordingSegmentInfo,
	type SegmentTrack
} from './manifest.js';
import type { PortAllocator } from './ports.js';

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
}

export interface ClassRecorderEvents {
	segmentStarted: [RecordingSegmentInfo];
	segmentEnded: [RecordingSegmentInfo];
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
	child: ChildProcess;
	exited: Promise<void>;
	tracks: Track[];
	stopping: boolean;
}

const LISTEN_IP = '127.0.0.1';

/**
 * Records one class: joins its ClassRoom as a hidden viewer, picks the media
 * to keep (one video, one audio) and pipes it over PlainTransports to an
 * FFmpeg that copies the RTP into Matroska without transcoding. Whenever the
 * chosen sources change (mute, camera/screen switch, producer replaced, worker
 * rebuilt) or FFmpeg dies, the current file is closed and a new segment
 * starts; finalizeRecording() joins them later.
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
			stallMs: 5000,
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
		await writeManifest(options.dir, recorder.manifest);
		room.join(recorder.peerId, 'viewer');
		room.on('producer', recorder.#onProducer);
		room.on('rebuilt', recorder.#onRebuilt);
		room.once('closed', recorder.#onClosed);
		recorder.#schedule(0);
		return recorder;
	}

	get stopped(): boolean {
		return this.#stopped;
	}

	/** The segment being written, if any. */
	get currentSegment(): RecordingSegmentInfo | null {
		return this.#segment?.info ?? null;
	}

	/** Test and ops hook: the FFmpeg of the current segment. */
	get ffmpegPid(): number | undefined {
		return this.#segment?.child.pid;
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
				this.manifest.endedAt = Date.now();
				await this.#save();
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
		const wanted = pickSources(this.room.listProducers());
		const current = this.#segment;
		if (current) {
			const healthy =
				!current.stopping &&
				current.child.exitCode === null &&
				current.child.signalCode === null &&
				current.tracks.every((t) => !t.consumer.closed && !t.transport.closed);
			const same =
				current.info.video?.producerId === wanted.video?.id &&
				current.info.audio?.producerId === wanted.audio?.id;
			if (healthy && same) return;
			if (healthy && (wanted.video || wanted.audio)) {
				// Make before break: the old file keeps recording until the new
				// one has media, so a switch leaves no hole.
				try {
					await this.#startSegment(wanted);
				} finally {
					await this.#endSegment(current, 'switched');
				}
				return;
			}
			await this.#endSegment(current, 'switched');
		}
		if (!wanted.video && !wanted.audio) return;
		await this.#startSegment(wanted);
	}

	async #startSegment(wanted: { video?: ProducerInfo; audio?: ProducerInfo }): Promise<void> {
		if (!this.room.hasPeer(this.peerId)) this.room.join(this.peerId, 'viewer');
		const seq = this.manifest.segments.length + 1;
		const file = `segment-${String(seq).padStart(4, '0')}.mkv`;
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
		const sdp = buildSdp(tracks);
		const sdpFile = path.join(this.#options.dir, `segment-${String(seq).padStart(4, '0')}.sdp`);
		await fs.writeFile(sdpFile, sdp);
		const child = spawn(
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
				'-map',
				'0',
				'-c',
				'copy',
				// Short clusters written through at once, so a killed FFmpeg
				// (or a server crash) loses at most about a second.
				'-flush_packets',
				'1',
				'-cluster_time_limit',
				'1000',
				'-f',
				'matroska',
				'-y',
				path.join(this.#options.dir, file)
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
			file,
			startedAt: Date.now(),
			endedAt: null,
			video: trackInfo(tracks.find((t) => t.consumer.kind === 'video')),
			audio: trackInfo(tracks.find((t) => t.consumer.kind === 'audio'))
		};
		const segment: LiveSegment = { info, child, exited, tracks, stopping: false };
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
		// FFmpeg binds its sockets right away; give it a moment, then let the
		// media flow and ask for key frames so the file does not start black.
		await delay(200);
		if (segment.stopping) return;
		info.startedAt = Date.now();
		this.manifest.segments.push(info);
		await this.#save();
		for (const t of tracks) {
			if (!t.consumer.closed) await t.consumer.resume().catch(() => undefined);
		}
		this.#requestKeyFrames(segment);
		this.#watchForMedia(segment, () => stderr);
		this.emit('segmentStarted', info);
		this.#options.logger.info('recording segment started', {
			classId: this.room.classId,
			seq,
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

	#requestKeyFrames(segment: LiveSegment): void {
		const video = segment.tracks.find((t) => t.consumer.kind === 'video');
		if (!video) return;
		for (const ms of [0, 500, 1500, 3000]) {
			setTimeout(() => {
				if (!segment.stopping && !video.consumer.closed) {
					video.consumer.requestKeyFrame().catch(() => undefined);
				}
			}, ms).unref();
		}
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
			const file = path.join(this.#options.dir, segment.info.file);
			const size = (await fs.stat(file).catch(() => null))?.size ?? 0;
			if (size > 0) this.#stalls = 0;
			if (size > 0 || !current()) return;
			this.#stalls++;
			this.#options.logger.warn('recording segment got no media; starting a new one', {
				classId: this.room.classId,
				seq: segment.info.seq,
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
		// SIGINT while the media still flows: FFmpeg only notices it between
		// packets (a second SIGINT aborts a blocked read), then writes the
		// Matroska index. SIGKILL if it hangs; flushed clusters survive that.
		const child = segment.child;
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGINT');
			const again = setTimeout(() => child.kill('SIGINT'), 2000);
			const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
			await segment.exited;
			clearTimeout(again);
			clearTimeout(kill);
		}
		for (const t of segment.tracks) if (!t.transport.closed) t.transport.close();
		segment.info.endedAt = Date.now();
		segment.info.endReason = reason;
		await this.#save();
		this.emit('segmentEnded', segment.info);
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
 * the newest unpaused producer of each kind.
 */
export function pickSources(producers: ProducerInfo[]): {
	video?: ProducerInfo;
	audio?: ProducerInfo;
} {
	const live = producers.filter((p) => !p.paused);
	const videos = live.filter((p) => p.kind === 'video');
	const isScreen = (p: ProducerInfo) =>
		Object.values(p.appData).some((v) => typeof v === 'string' && SCREEN.test(v));
	const video = videos.filter(isScreen).at(-1) ?? videos.at(-1);
	const audio = live.filter((p) => p.kind === 'audio').at(-1);
	return { video, audio };
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

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
