import { Device, type types } from 'mediasoup-client';
import type { LiveClassStatus, ProducerSummary } from './protocol.ts';
import { LiveRequestError, Signaling } from './signaling.ts';

export type ViewerState =
	| 'connecting'
	| 'waiting'
	| 'playing'
	| 'paused'
	| 'reconnecting'
	| 'ended'
	| 'forbidden'
	| 'error';

export type ViewerQuality = 'auto' | 'high' | 'medium' | 'low';

const SPATIAL_LAYER: Record<ViewerQuality, number> = { auto: 2, high: 2, medium: 1, low: 0 };

/** A disconnected transport that has not recovered by then is rebuilt. */
const DISCONNECTED_GRACE_MS = 3000;

export type ViewerCallbacks = {
	onState?: (state: ViewerState, error?: unknown) => void;
	/** A new stream to attach to the <video> element (after (re)consuming). */
	onStream?: (stream: MediaStream) => void;
	onAudioPaused?: (paused: boolean) => void;
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

type Kind = 'audio' | 'video';
type Consumed = { consumer: types.Consumer; producerId: string };

/**
 * A registered taxpayer's (or staff's) side of a live class: one receive
 * transport consuming the instructor's audio and simulcast video. Reconnects
 * by itself after socket drops, server restarts and worker deaths.
 */
export class Viewer {
	readonly signaling: Signaling;
	#cb: ViewerCallbacks;
	#device?: types.Device;
	#deviceLoading?: { capabilities: string; device: Promise<types.Device> };
	#transport?: types.Transport;
	#consumed: Partial<Record<Kind, Consumed>> = {};
	#producers = new Map<string, ProducerSummary>();
	#pendingConsume = new Set<string>();
	#quality: ViewerQuality = 'auto';
	#generation = 0;
	#closed = false;
	#disconnectTimer?: ReturnType<typeof setTimeout>;
	#retryTimer?: ReturnType<typeof setTimeout>;
	state: ViewerState = 'connecting';
	status: LiveClassStatus = 'SCHEDULED';

	constructor(classId: string, callbacks: ViewerCallbacks = {}, options: ViewerOptions = {}) {
		this.#cb = callbacks;
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
			if (e.status === 'ENDED' || e.status === 'CANCELLED') this.#end();
			else this.#refreshState();
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

	#isFinal() {
		return this.#closed || this.state === 'ended' || this.state === 'forbidden';
	}

	#setState(state: ViewerState, error?: unknown) {
		if (this.state === state && !error) return;
		this.state = state;
		this.#cb.onState?.(state, error);
	}

	#refreshState() {
		if (this.#isFinal() || !this.#transport) return;
		const video = [...this.#producers.values()].find((p) => p.kind === 'video');
		const audio = [...this.#producers.values()].find((p) => p.kind === 'audio');
		this.#cb.onAudioPaused?.(audio?.paused ?? false);
		if (!video) this.#setState('waiting');
		else if (video.paused) this.#setState('paused');
		else if (this.#consumed.video) this.#setState('playing');
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
		this.#consumed = {};
		this.#pendingConsume.clear();
	}

	#end() {
		this.#teardown();
		this.#producers.clear();
		this.#setState('ended');
	}

	async #rebuild(): Promise<void> {
		if (this.#isFinal()) return;
		const wasPlaying = this.#transport !== undefined;
		this.#teardown();
		const generation = this.#generation;
		if (wasPlaying) this.#setState('reconnecting');
		const s = this.signaling;
		try {
			const joined = await s.join({ recvTransport: true });
			performance.mark('live:joined');
			if (generation !== this.#generation) return;
			this.status = joined.status;
			this.#producers = new Map(joined.producers.map((p) => [p.id, p]));
			if (joined.status === 'ENDED' || joined.status === 'CANCELLED') return this.#end();
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
			await Promise.all([...this.#producers.values()].map((p) => this.#consume(p, generation)));
			this.#refreshState();
		} catch (err) {
			if (generation !== this.#generation || this.#isFinal()) return;
			if (
				err instanceof LiveRequestError &&
				(err.code === 'forbidden' || err.code === 'not_found')
			) {
				this.#teardown();
				this.#setState('forbidden', err);
				return;
			}
			this.#setState('reconnecting', err);
			this.#retryTimer = setTimeout(() => {
				if (generation === this.#generation) void this.#rebuild();
			}, 1000);
		}
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

	async #consume(producer: ProducerSummary, generation: number): Promise<void> {
		const transport = this.#transport;
		const device = this.#device;
		if (!transport || !device || generation !== this.#generation) return;
		if (this.#pendingConsume.has(producer.id)) return;
		if (this.#consumed[producer.kind]?.producerId === producer.id) return;
		this.#pendingConsume.add(producer.id);
		try {
			const info = await this.signaling.request<{
				id: string;
				producerId: string;
				kind: Kind;
				rtpParameters: types.RtpParameters;
			}>('consume', {
				transportId: transport.id,
				producerId: producer.id,
				rtpCapabilities: device.rtpCapabilities
			});
			if (generation !== this.#generation) return;
			const consumer = await transport.consume({
				id: info.id,
				producerId: info.producerId,
				kind: info.kind,
				rtpParameters: info.rtpParameters
			});
			if (generation !== this.#generation) return;
			this.#consumed[info.kind]?.consumer.close();
			this.#consumed[info.kind] = { consumer, producerId: producer.id };
			this.#publishStream();
			await this.signaling.request('resumeConsumer', { consumerId: consumer.id });
			performance.mark(`live:resumed:${info.kind}`);
			if (info.kind === 'video' && this.#quality !== 'auto') await this.#applyQuality();
			this.#refreshState();
		} catch (err) {
			if (generation !== this.#generation) return;
			// The producer may have closed meanwhile; anything else means start over.
			if (this.#producers.has(producer.id)) {
				this.#setState('reconnecting', err);
				this.#retryTimer = setTimeout(() => void this.#rebuild(), 1000);
			}
		} finally {
			this.#pendingConsume.delete(producer.id);
		}
	}

	#drop(producerId: string) {
		for (const kind of ['audio', 'video'] as const) {
			const c = this.#consumed[kind];
			if (c?.producerId === producerId) {
				c.consumer.close();
				delete this.#consumed[kind];
				this.#publishStream();
			}
		}
	}

	#publishStream() {
		const tracks = Object.values(this.#consumed).map((c) => c.consumer.track);
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
