import { Device, type types } from 'mediasoup-client';
import type { LiveClassStatus, LiveStatusEvent } from './protocol.ts';
import { LiveRequestError, Signaling } from './signaling.ts';

export type PublisherState =
	'connecting' | 'ready' | 'starting' | 'live' | 'reconnecting' | 'ended' | 'replaced' | 'error';

export type ConnectionQuality = {
	level: 'good' | 'fair' | 'poor' | 'unknown';
	/** mediasoup's score of my streams as received by the SFU, 0-10. */
	score?: number;
	/** Round trip to the SFU in milliseconds. */
	rttMs?: number;
	/** What I send, kbit/s. */
	sendKbps?: number;
	viewerCount: number;
};

export type PublisherCallbacks = {
	onState?: (state: PublisherState, error?: unknown) => void;
	onViewers?: (count: number) => void;
	onStatus?: (status: LiveClassStatus) => void;
};

/** Three simulcast layers; viewers get the one their link carries (or the one they pick). */
export const SIMULCAST_ENCODINGS: types.RtpEncodingParameters[] = [
	{ rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
	{ rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
	{ rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 }
];

type Kind = 'audio' | 'video';
export type VideoSource = 'camera' | 'screen';

/**
 * H.264 constrained baseline when this browser can send it (Chromium, Safari,
 * Edge): the server then packages the class as HLS without re-encoding. The
 * device's capabilities are what both the router and the browser support, so
 * undefined here means VP8, the fallback every browser sends.
 */
export function preferredVideoCodec(device: types.Device): types.RtpCodecCapability | undefined {
	return device.rtpCapabilities.codecs?.find(
		(c) =>
			c.mimeType.toLowerCase() === 'video/h264' &&
			c.parameters?.['packetization-mode'] === 1 &&
			String(c.parameters?.['profile-level-id'] ?? '').startsWith('42e0')
	);
}

/**
 * The instructor's side of a live class: one send transport with an audio and
 * a simulcast video producer. Survives socket drops, server restarts and
 * worker deaths by redoing the transport and producing the current tracks again.
 *
 * As 'interpreter' (the sign-language interpreter's studio) it sends a camera
 * only, and goLive starts sending without making the class LIVE: that stays
 * the instructor's.
 */
export class Publisher {
	readonly signaling: Signaling;
	#cb: PublisherCallbacks;
	#transport?: types.Transport;
	#producers: Partial<Record<Kind, types.Producer>> = {};
	#producing: Partial<Record<Kind, Promise<void>>> = {};
	#tracks: Partial<Record<Kind, MediaStreamTrack>> = {};
	#paused: Record<Kind, boolean> = { audio: false, video: false };
	#videoSource: VideoSource = 'camera';
	#live = false;
	#closed = false;
	#generation = 0;
	#lastBytes?: { bytes: number; at: number };
	#device?: { key: string; device: Promise<types.Device> };
	/** The router capabilities from the last join. */
	#capabilities?: unknown;
	state: PublisherState = 'connecting';
	status: LiveClassStatus = 'SCHEDULED';

	constructor(
		classId: string,
		callbacks: PublisherCallbacks = {},
		url?: string,
		readonly role: 'publisher' | 'interpreter' = 'publisher'
	) {
		this.#cb = callbacks;
		this.signaling = new Signaling(classId, role, url);
		const s = this.signaling;
		s.on('viewers', ({ count }) => this.#cb.onViewers?.(count));
		s.on('status', (e: LiveStatusEvent) => this.#setStatus(e.status));
		s.on('rebuilt', () => void this.#rebuild(false));
		s.on('reconnected', () => void this.#rebuild(true));
		// Presenting rights changed (the class was handed to someone else): the join decides.
		s.on('access', () => void this.#rebuild(true));
		s.on('disconnected', () => {
			if (this.#live) this.#setState('reconnecting');
		});
		s.on('replaced', () => {
			// Off air for good: the disconnect that follows is not a drop to recover from.
			this.#live = false;
			this.#teardown();
			this.#setState('replaced');
		});
		s.on('refused', () => {
			this.#live = false;
			this.#teardown();
			this.#setState('error', new LiveRequestError('forbidden'));
		});
	}

	#over() {
		return this.status === 'ENDED' || this.status === 'CANCELLED';
	}

	#setState(state: PublisherState, error?: unknown) {
		this.state = state;
		this.#cb.onState?.(state, error);
	}

	#setStatus(status: LiveClassStatus) {
		this.status = status;
		this.#cb.onStatus?.(status);
		if (status === 'ENDED' || status === 'CANCELLED') {
			this.#live = false;
			this.#teardown();
			this.#setState('ended');
		}
	}

	/** Join the class as its publisher. Resolves with the class status. */
	async connect(): Promise<LiveClassStatus> {
		try {
			const joined = await this.signaling.join();
			this.#capabilities = joined.routerRtpCapabilities;
			this.#setStatus(joined.status);
			this.#cb.onViewers?.(joined.viewerCount);
			if (!this.#over()) this.#setState('ready');
			return joined.status;
		} catch (err) {
			this.#setState('error', err);
			throw err;
		}
	}

	/** Produce the tracks (audio + simulcast video) and mark the class LIVE. */
	async goLive(
		tracks: Partial<Record<Kind, MediaStreamTrack>>,
		videoSource: VideoSource = 'camera'
	): Promise<void> {
		this.#tracks = this.role === 'interpreter' ? { video: tracks.video } : { ...tracks };
		this.#videoSource = videoSource;
		this.#setState('starting');
		try {
			await this.#setup(this.#generation);
			if (this.role === 'publisher') {
				const reply = await this.signaling.goLive();
				if (!reply.ok) throw new LiveRequestError(reply.error, reply.message);
				this.#setStatus(reply.status);
			}
			this.#live = true;
			this.#setState('live');
		} catch (err) {
			this.#teardown();
			this.#setState('error', err);
			throw err;
		}
	}

	/** A Device for these capabilities; every router offers the same, so one load serves all. */
	async #deviceFor(routerRtpCapabilities: types.RtpCapabilities): Promise<types.Device> {
		const key = JSON.stringify(routerRtpCapabilities);
		if (this.#device?.key !== key) {
			const device = new Device();
			this.#device = { key, device: device.load({ routerRtpCapabilities }).then(() => device) };
		}
		const loading = this.#device;
		return loading.device.catch((err: unknown) => {
			if (this.#device === loading) this.#device = undefined;
			throw err;
		});
	}

	async #setup(generation: number): Promise<void> {
		const s = this.signaling;
		const routerRtpCapabilities =
			(this.#capabilities as types.RtpCapabilities | undefined) ??
			(await s.request<types.RtpCapabilities>('getRouterRtpCapabilities'));
		const device = await this.#deviceFor(routerRtpCapabilities);
		const info = await s.request<types.TransportOptions>('createWebRtcTransport', {
			direction: 'send'
		});
		if (generation !== this.#generation) return;
		const transport = device.createSendTransport(info);
		this.#transport = transport;
		transport.on('connect', ({ dtlsParameters }, done, fail) => {
			s.request('connectTransport', { transportId: transport.id, dtlsParameters }).then(
				() => done(),
				fail
			);
		});
		transport.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
			s.request<{ id: string }>('produce', {
				transportId: transport.id,
				kind,
				rtpParameters,
				appData
			}).then(done, fail);
		});
		transport.on('connectionstatechange', (state) => {
			if (generation !== this.#generation || !this.#live) return;
			if (state === 'failed') void this.#rebuild(true);
			else if (state === 'connected' && this.state === 'reconnecting') this.#setState('live');
		});
		for (const kind of ['audio', 'video'] as const) {
			if (generation !== this.#generation) return;
			await this.#produce(kind, transport, device, generation);
		}
	}

	/**
	 * Sends the current track of this kind, if there is one and nothing sends
	 * it yet: at go-live, and for a track that arrives later (a camera allowed
	 * after the class went live). One at a time per kind.
	 */
	#produce(
		kind: Kind,
		transport: types.Transport,
		device: types.Device,
		generation: number
	): Promise<void> {
		const running = this.#producing[kind];
		if (running) return running;
		const done = (async () => {
			const track = this.#tracks[kind];
			if (!track || this.#producers[kind]) return;
			const producer = await transport.produce({
				track,
				stopTracks: false,
				zeroRtpOnPause: true,
				appData: { source: kind === 'video' ? this.#videoSource : 'mic' },
				...(kind === 'video'
					? {
							encodings: SIMULCAST_ENCODINGS,
							codec: preferredVideoCodec(device),
							codecOptions: { videoGoogleStartBitrate: 1000 }
						}
					: { codecOptions: { opusStereo: false, opusDtx: true } })
			});
			if (generation !== this.#generation) {
				producer.close();
				return;
			}
			this.#producers[kind] = producer;
			// The track changed while the producer was being made.
			const latest = this.#tracks[kind];
			if (latest && latest !== track) await producer.replaceTrack({ track: latest });
			if (this.#paused[kind]) await this.#applyPause(kind, true);
		})().finally(() => {
			if (this.#producing[kind] === done) delete this.#producing[kind];
		});
		this.#producing[kind] = done;
		return done;
	}

	/** A track that came once sending had begun (a camera allowed late) is sent too. */
	async #produceLate(kind: Kind): Promise<void> {
		const transport = this.#transport;
		const generation = this.#generation;
		const device = await this.#device?.device.catch(() => undefined);
		if (!transport || transport.closed || !device) return;
		if (generation !== this.#generation) return;
		// A transport lost meanwhile is rebuilt, which sends the current tracks.
		await this.#produce(kind, transport, device, generation).catch(() => undefined);
	}

	#teardown() {
		this.#generation++;
		this.#transport?.close();
		this.#transport = undefined;
		this.#producers = {};
		this.#producing = {};
		this.#lastBytes = undefined;
	}

	async #rebuild(rejoin: boolean): Promise<void> {
		if (this.#closed || this.#over() || this.state === 'replaced') return;
		this.#teardown();
		const generation = this.#generation;
		if (this.#live) this.#setState('reconnecting');
		try {
			if (rejoin) {
				const joined = await this.signaling.join();
				this.#capabilities = joined.routerRtpCapabilities;
				this.#cb.onViewers?.(joined.viewerCount);
				this.#setStatus(joined.status);
				if (joined.status !== 'LIVE' && joined.status !== 'SCHEDULED') return;
			}
			if (!this.#live || generation !== this.#generation) return;
			await this.#setup(generation);
			if (generation === this.#generation) this.#setState('live');
		} catch (err) {
			if (generation !== this.#generation || this.#closed) return;
			if (err instanceof LiveRequestError && err.code === 'forbidden') {
				this.#live = false;
				this.#teardown();
				this.#setState('error', err);
				return;
			}
			setTimeout(() => {
				if (generation === this.#generation) void this.#rebuild(true);
			}, 1000);
		}
	}

	/**
	 * Switch the video (another camera, or camera ⇄ screen) without
	 * renegotiating. A change of source is told to the server, whose HLS
	 * stream starts a new part there.
	 */
	async replaceVideoTrack(track: MediaStreamTrack, source: VideoSource = 'camera'): Promise<void> {
		this.#tracks.video = track;
		const changed = source !== this.#videoSource;
		this.#videoSource = source;
		const producer = this.#producers.video;
		if (!producer || producer.closed) return this.#produceLate('video');
		await producer.replaceTrack({ track });
		if (changed) {
			await this.signaling
				.request('setProducerSource', { producerId: producer.id, source })
				.catch(() => undefined);
		}
	}

	async replaceAudioTrack(track: MediaStreamTrack): Promise<void> {
		this.#tracks.audio = track;
		const producer = this.#producers.audio;
		if (!producer || producer.closed) return this.#produceLate('audio');
		await producer.replaceTrack({ track });
	}

	async #applyPause(kind: Kind, paused: boolean) {
		const producer = this.#producers[kind];
		if (!producer || producer.closed) return;
		if (paused) producer.pause();
		else producer.resume();
		await this.signaling.request(paused ? 'pauseProducer' : 'resumeProducer', {
			producerId: producer.id
		});
	}

	/** Mute (audio) or camera off (video): viewers see the paused state. */
	async setPaused(kind: Kind, paused: boolean): Promise<void> {
		this.#paused[kind] = paused;
		await this.#applyPause(kind, paused);
	}

	isPaused(kind: Kind): boolean {
		return this.#paused[kind];
	}

	/**
	 * Stop sending and stay ready (the interpreter's studio; the class goes
	 * on). Joining again makes the server drop this connection's transports,
	 * so viewers lose the picture at once.
	 */
	async stop(): Promise<void> {
		this.#live = false;
		this.#teardown();
		const joined = await this.signaling.join();
		this.#capabilities = joined.routerRtpCapabilities;
		this.#setStatus(joined.status);
		if (!this.#over()) this.#setState('ready');
	}

	/** End the class for everyone (status ENDED). */
	async end(): Promise<void> {
		const reply = await this.signaling.end();
		if (!reply.ok) throw new LiveRequestError(reply.error, reply.message);
		this.#setStatus(reply.status);
	}

	/** Own connection quality: the SFU's view (score) plus the browser's (RTT, bitrate). */
	async quality(): Promise<ConnectionQuality> {
		const server = await this.signaling.quality();
		const result: ConnectionQuality = {
			level: 'unknown',
			score: server.score,
			viewerCount: server.viewerCount
		};
		const transport = this.#transport;
		if (transport && !transport.closed) {
			const report = await transport.getStats();
			let bytes = 0;
			report.forEach((stat) => {
				if (stat.type === 'outbound-rtp') bytes += stat.bytesSent ?? 0;
				if (stat.type === 'candidate-pair' && stat.nominated && stat.currentRoundTripTime) {
					result.rttMs = Math.round(stat.currentRoundTripTime * 1000);
				}
			});
			const now = performance.now();
			if (this.#lastBytes && now > this.#lastBytes.at) {
				result.sendKbps = Math.round(
					((bytes - this.#lastBytes.bytes) * 8) / (now - this.#lastBytes.at)
				);
			}
			this.#lastBytes = { bytes, at: now };
		}
		if (result.score !== undefined) {
			const rtt = result.rttMs ?? 0;
			result.level =
				result.score >= 8 && rtt < 200 ? 'good' : result.score >= 5 && rtt < 500 ? 'fair' : 'poor';
		}
		return result;
	}

	close() {
		this.#closed = true;
		this.#teardown();
		this.signaling.close();
	}
}
