import { Device, type types } from 'mediasoup-client';
import type { JoinConsumer, LiveClassStatus, ProducerSummary } from './protocol.ts';
import { LiveRequestError, Signaling } from './signaling.ts';

export type ViewerState =
	| 'connecting'
	| 'waiting'
	/** On the waitlist: plays by itself once a seat comes free. */
	| 'waitlisted'
	| 'playing'
	| 'paused'
	| 'reconnecting'
	| 'ended'
	| 'forbidden'
	/** The class's WebRTC capacity is reached; the page plays its HLS stream instead. */
	| 'overflow'
	| 'error';

export type ViewerQuality = 'auto' | 'high' | 'medium' | 'low';

const SPATIAL_LAYER: Record<ViewerQuality, number> = { auto: 2, high: 2, medium: 1, low: 0 };

/** Refusals a retry cannot change, and the state each leaves the player in. */
const FINAL_ERRORS: Partial<Record<LiveRequestError['code'], ViewerState>> = {
	forbidden: 'forbidden',
	not_found: 'forbidden',
	too_many_connections: 'error',
	limit: 'error',
	// The page plays the class's HLS stream instead, and tries WebRTC again later.
	overflow: 'overflow'
};

/** A disconnected transport that has not recovered by then is rebuilt. */
const DISCONNECTED_GRACE_MS = 3000;
/** A failed join or consume is tried again after this long. */
const RETRY_MS = 1000;

export type ViewerCallbacks = {
	onState?: (state: ViewerState, error?: unknown) => void;
	/** A new stream to attach to the <video> element (after (re)consuming). */
	onStream?: (stream: MediaStream) => void;
	onAudioPaused?: (paused: boolean) => void;
	/** The class's status whenever the server tells it (a join's reply, or a change). */
	onStatus?: (status: LiveClassStatus) => void;
	/** The sign-language interpreter's picture, or null when there is none (now). */
	onInterpreterStream?: (stream: MediaStream | null) => void;
};

export type ViewerStats = {
	framesDecoded: number;
	frameHeight?: number;
	audioBytesReceived: number;
};

export type ViewerOptions = {
	/** Signaling server; the page's own origin when absent. */
	url?: string;
	/** The media server's router capabilities as the server sent them, when the page has them. */
	routerRtpCapabilities?: unknown;
};

/** What a consumer plays: the class's sound or picture, or the interpreter's picture. */
type Slot = 'audio' | 'video' | 'interpreter';
type Consumed = { consumer: types.Consumer; producerId: string };
const SLOTS: readonly Slot[] = ['audio', 'video', 'interpreter'];
const slotOf = (p: ProducerSummary): Slot => (p.interpreter ? 'interpreter' : p.kind);

/**
 * A registered taxpayer's (or staff's) side of a live class: one receive
 * transport consuming the instructor's audio and simulcast video, and the
 * sign-language interpreter's video when the class has one (a picture of its
 * own). Reconnects by itself after socket drops, server restarts and worker
 * deaths.
 */
export class Viewer {
	readonly signaling: Signaling;
	#cb: ViewerCallbacks;
	#device?: types.Device;
	#deviceLoading?: { capabilities: string; device: Promise<types.Device> };
	#transport?: types.Transport;
	#consumed: Partial<Record<Slot, Consumed>> = {};
	#producers = new Map<string, ProducerSummary>();
	#pendingConsume = new Set<string>();
	#quality: ViewerQuality = 'auto';
	#generation = 0;
	#closed = false;
	#disconnectTimer?: ReturnType<typeof setTimeout>;
	#retryTimer?: ReturnType<typeof setTimeout>;
	/** What the callbacks were last told, for listen() to tell a new listener. */
	#told: {
		status?: LiveClassStatus;
		stream?: MediaStream;
		interpreter?: MediaStream | null;
		audioPaused?: boolean;
	} = {};
	state: ViewerState = 'connecting';
	status: LiveClassStatus = 'SCHEDULED';

	constructor(classId: string, callbacks: ViewerCallbacks = {}, options: ViewerOptions = {}) {
		this.#cb = this.#remembering(callbacks);
		this.signaling = new Signaling(classId, 'viewer', options.url);
		// With the capabilities from the page, the Device loads while the socket connects.
		if (options.routerRtpCapabilities) {
			this.#deviceFor(options.routerRtpCapabilities as types.RtpCapabilities).catch(
				() => undefined
			);
		}
		const s = this.signaling;
		s.on('status', (e) => {
			this.status = e.status;
			this.#cb.onStatus?.(e.status);
			if (e.status === 'ENDED' || e.status === 'CANCELLED') this.#end();
			// Waiting for the start without media: now there is some.
			else if (e.status === 'LIVE' && !this.#transport) void this.#rebuild();
			else this.#refreshState();
		});
		// A seat came free, or access was withdrawn: joining again tells which.
		s.on('access', () => {
			if (this.#closed || this.state === 'ended') return;
			void this.#rebuild();
		});
		s.on('producer', (e) => {
			if (e.type === 'closed') {
				this.#producers.delete(e.producer.id);
				this.#drop(e.producer.id);
			} else {
				this.#producers.set(e.producer.id, e.producer);
				if (e.type === 'added') void this.#consume(e.producer, this.#generation);
			}
			this.#refreshState();
		});
		s.on('consumer', (e) => {
			if (e.type === 'closed') this.#drop(e.producerId);
		});
		// Joining again also fetches the (new) producer list after a worker loss.
		s.on('rebuilt', () => void this.#rebuild());
		s.on('reconnected', () => void this.#rebuild());
		s.on('disconnected', () => {
			if (!this.#isFinal()) this.#setState('reconnecting');
		});
		s.on('refused', () => {
			if (this.#isFinal()) return;
			this.#teardown();
			this.#setState('forbidden');
		});
	}

	/**
	 * Hands the viewer to new callbacks (the watch page taking over the one its
	 * early script started) and tells them where things stand: the state, the
	 * status once known, and the streams being played.
	 */
	listen(callbacks: ViewerCallbacks): void {
		this.#cb = this.#remembering(callbacks);
		const told = this.#told;
		callbacks.onState?.(this.state);
		if (told.status) callbacks.onStatus?.(told.status);
		if (told.audioPaused !== undefined) callbacks.onAudioPaused?.(told.audioPaused);
		if (told.stream) callbacks.onStream?.(told.stream);
		if (told.interpreter) callbacks.onInterpreterStream?.(told.interpreter);
	}

	#remembering(callbacks: ViewerCallbacks): ViewerCallbacks {
		const told = this.#told;
		return {
			onState: callbacks.onState,
			onStatus: (status) => callbacks.onStatus?.((told.status = status)),
			onAudioPaused: (paused) => callbacks.onAudioPaused?.((told.audioPaused = paused)),
			onStream: (stream) => callbacks.onStream?.((told.stream = stream)),
			onInterpreterStream: (stream) => callbacks.onInterpreterStream?.((told.interpreter = stream))
		};
	}

	#isFinal() {
		return (
			this.#closed ||
			this.state === 'ended' ||
			this.state === 'forbidden' ||
			this.state === 'overflow'
		);
	}

	#setState(state: ViewerState, error?: unknown) {
		if (this.state === state && !error) return;
		this.state = state;
		// Marks trace a viewer's way to the picture (read by tests and in devtools).
		const code = error instanceof LiveRequestError ? `:${error.code}` : error ? ':error' : '';
		performance.mark(`live:${state}${code}`);
		this.#cb.onState?.(state, error);
	}

	#refreshState() {
		if (this.#isFinal() || !this.#transport) return;
		const video = [...this.#producers.values()].find((p) => slotOf(p) === 'video');
		const audio = [...this.#producers.values()].find((p) => slotOf(p) === 'audio');
		this.#cb.onAudioPaused?.(audio?.paused ?? false);
		if (video?.paused) this.#setState('paused');
		// Without a picture (no camera), a class that sends sound is playing.
		else if (video ? this.#consumed.video : this.#consumed.audio) this.#setState('playing');
		else if (!video) this.#setState('waiting');
	}

	async start(): Promise<void> {
		performance.mark('live:start');
		void this.signaling.connected().then(() => performance.mark('live:socket'));
		await this.#rebuild();
	}

	#teardown() {
		this.#generation++;
		clearTimeout(this.#disconnectTimer);
		clearTimeout(this.#retryTimer);
		this.#transport?.close();
		this.#transport = undefined;
		if (this.#consumed.interpreter) this.#cb.onInterpreterStream?.(null);
		this.#consumed = {};
		this.#pendingConsume.clear();
	}

	#end() {
		this.#teardown();
		this.#producers.clear();
		this.#setState('ended');
	}

	async #rebuild(): Promise<void> {
		if (this.#closed || this.state === 'ended') return;
		const wasPlaying = this.#transport !== undefined;
		this.#teardown();
		const generation = this.#generation;
		if (wasPlaying) this.#setState('reconnecting');
		const s = this.signaling;
		const toldLive = this.status === 'LIVE';
		try {
			// With the Device already loaded (from the page), the join brings the consumers too.
			const loaded = await this.#deviceLoading?.device.catch(() => undefined);
			const joined = await s.join({
				recvTransport: true,
				rtpCapabilities: loaded?.rtpCapabilities as Record<string, unknown> | undefined
			});
			performance.mark(`live:joined:${joined.waiting ?? joined.status}`);
			if (generation !== this.#generation) return;
			this.status = joined.status;
			this.#cb.onStatus?.(joined.status);
			this.#producers = new Map(joined.producers.map((p) => [p.id, p]));
			if (joined.status === 'ENDED' || joined.status === 'CANCELLED') return this.#end();
			if (joined.waiting) {
				// Told the class is live, yet the server still waits for the start:
				// its view was a moment behind, so ask again shortly.
				if (toldLive && joined.waiting === 'opening') this.#retryLater(generation);
				return this.#setState(joined.waiting === 'seat' ? 'waitlisted' : 'waiting');
			}
			const info = joined.recvTransport as types.TransportOptions | undefined;
			const capabilities = joined.routerRtpCapabilities as types.RtpCapabilities | undefined;
			if (!info || !capabilities) throw new LiveRequestError('server', 'incomplete join reply');
			const device = await this.#deviceFor(capabilities);
			performance.mark('live:device');
			if (generation !== this.#generation) return;
			this.#device = device;
			const transport = device.createRecvTransport(info);
			this.#transport = transport;
			transport.on('connect', ({ dtlsParameters }, done, fail) => {
				s.request('connectTransport', { transportId: transport.id, dtlsParameters }).then(
					() => done(),
					fail
				);
			});
			transport.on('connectionstatechange', (state) => {
				if (generation !== this.#generation) return;
				clearTimeout(this.#disconnectTimer);
				if (state === 'failed') void this.#rebuild();
				else if (state === 'disconnected') {
					this.#setState('reconnecting');
					this.#disconnectTimer = setTimeout(() => {
						if (generation === this.#generation) void this.#rebuild();
					}, DISCONNECTED_GRACE_MS);
				} else if (state === 'connected') this.#refreshState();
			});
			const made = new Map((joined.consumers ?? []).map((c) => [c.producerId, c]));
			await Promise.all(
				[...this.#producers.values()].map((p) => {
					const info = made.get(p.id);
					return info ? this.#take(p, generation, async () => info) : this.#consume(p, generation);
				})
			);
			this.#refreshState();
		} catch (err) {
			if (generation !== this.#generation || this.#isFinal()) return;
			// Retrying cannot help: say why and wait for the user (or an access event).
			const final = err instanceof LiveRequestError ? FINAL_ERRORS[err.code] : undefined;
			if (final) {
				this.#teardown();
				this.#setState(final, err);
				return;
			}
			this.#setState('reconnecting', err);
			this.#retryLater(generation);
		}
	}

	#retryLater(generation: number) {
		clearTimeout(this.#retryTimer);
		this.#retryTimer = setTimeout(() => {
			if (generation === this.#generation) void this.#rebuild();
		}, RETRY_MS);
	}

	/**
	 * A Device loaded with these capabilities. Every router of the media server
	 * offers the same ones, so the Device loaded from the page's copy (or
	 * before a worker restart) is reused whenever they match.
	 */
	#deviceFor(routerRtpCapabilities: types.RtpCapabilities): Promise<types.Device> {
		const capabilities = JSON.stringify(routerRtpCapabilities);
		let loading = this.#deviceLoading;
		if (loading?.capabilities !== capabilities) {
			const device = new Device();
			const started = {
				capabilities,
				device: device.load({ routerRtpCapabilities }).then(() => device)
			};
			// A failed load is tried afresh on the next rebuild.
			started.device.catch(() => {
				if (this.#deviceLoading === started) this.#deviceLoading = undefined;
			});
			this.#deviceLoading = loading = started;
		}
		return loading.device;
	}

	/** Ask the server for a consumer of the producer, then play it. */
	#consume(producer: ProducerSummary, generation: number): Promise<void> {
		return this.#take(producer, generation, async (transport, device) =>
			this.signaling.request<JoinConsumer>('consume', {
				transportId: transport.id,
				producerId: producer.id,
				rtpCapabilities: device.rtpCapabilities
			})
		);
	}

	/**
	 * Play a consumer of the producer: `make` gets it from the server (or hands
	 * over one the join already made); it starts paused there and is resumed
	 * once its track is attached, so the first key frame is not lost.
	 */
	async #take(
		producer: ProducerSummary,
		generation: number,
		make: (transport: types.Transport, device: types.Device) => Promise<JoinConsumer>
	): Promise<void> {
		const transport = this.#transport;
		const device = this.#device;
		if (!transport || !device || generation !== this.#generation) return;
		if (this.#pendingConsume.has(producer.id)) return;
		const slot = slotOf(producer);
		if (this.#consumed[slot]?.producerId === producer.id) return;
		this.#pendingConsume.add(producer.id);
		try {
			const info = await make(transport, device);
			if (generation !== this.#generation) return;
			const consumer = await transport.consume({
				id: info.id,
				producerId: info.producerId,
				kind: info.kind,
				rtpParameters: info.rtpParameters as types.RtpParameters
			});
			if (generation !== this.#generation) return;
			this.#consumed[slot]?.consumer.close();
			this.#consumed[slot] = { consumer, producerId: producer.id };
			this.#publishStream(slot);
			await this.signaling.request('resumeConsumer', { consumerId: consumer.id });
			performance.mark(`live:resumed:${info.kind}`);
			if (slot === 'video' && this.#quality !== 'auto') await this.#applyQuality();
			this.#refreshState();
		} catch (err) {
			if (generation !== this.#generation) return;
			// The producer may have closed meanwhile; anything else means start over.
			if (this.#producers.has(producer.id)) {
				this.#setState('reconnecting', err);
				this.#retryLater(generation);
			}
		} finally {
			this.#pendingConsume.delete(producer.id);
		}
	}

	#drop(producerId: string) {
		for (const slot of SLOTS) {
			const c = this.#consumed[slot];
			if (c?.producerId === producerId) {
				c.consumer.close();
				delete this.#consumed[slot];
				this.#publishStream(slot);
			}
		}
	}

	#publishStream(changed: Slot) {
		if (changed === 'interpreter') {
			const track = this.#consumed.interpreter?.consumer.track;
			this.#cb.onInterpreterStream?.(track ? new MediaStream([track]) : null);
			return;
		}
		const tracks = [this.#consumed.audio, this.#consumed.video]
			.filter((c) => c !== undefined)
			.map((c) => c.consumer.track);
		this.#cb.onStream?.(new MediaStream(tracks));
	}

	async #applyQuality() {
		const video = this.#consumed.video;
		if (!video || video.consumer.closed) return;
		await this.signaling.request('setPreferredLayers', {
			consumerId: video.consumer.id,
			spatialLayer: SPATIAL_LAYER[this.#quality]
		});
	}

	/** Pick a simulcast layer; 'auto' lets the SFU follow the available bandwidth. */
	async setQuality(quality: ViewerQuality): Promise<void> {
		this.#quality = quality;
		await this.#applyQuality();
	}

	/** The interpreter's picture now, if the class has one. */
	get interpreterTrack(): MediaStreamTrack | undefined {
		return this.#consumed.interpreter?.consumer.track;
	}

	get quality(): ViewerQuality {
		return this.#quality;
	}

	async stats(): Promise<ViewerStats> {
		const result: ViewerStats = { framesDecoded: 0, audioBytesReceived: 0 };
		const transport = this.#transport;
		if (!transport || transport.closed) return result;
		const report = await transport.getStats();
		report.forEach((stat) => {
			if (stat.type !== 'inbound-rtp') return;
			if (stat.kind === 'video') {
				result.framesDecoded += stat.framesDecoded ?? 0;
				if (stat.frameHeight) result.frameHeight = stat.frameHeight;
			} else if (stat.kind === 'audio') result.audioBytesReceived += stat.bytesReceived ?? 0;
		});
		return result;
	}

	close() {
		this.#closed = true;
		this.#teardown();
		this.signaling.close();
	}
}
