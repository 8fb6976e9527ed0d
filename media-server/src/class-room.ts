import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { types } from 'mediasoup';
import { mediaCodecs } from './codecs.js';
import type { MediaServerConfig } from './config.js';
import type { MediaLogger } from './logger.js';
import type { WorkerPool } from './worker-pool.js';

/**
 * 'interpreter': a sign-language interpreter sending a camera beside the
 * publisher; its producers are tagged appData.source 'interpreter' here, so
 * viewers and the recorder can tell them apart whatever the client says.
 */
/** A recorder consumes like a viewer but is no audience: it counts apart. */
export type PeerRole = 'publisher' | 'interpreter' | 'viewer' | 'recorder';

/** appData.source of an interpreter's producer. */
export const INTERPRETER_SOURCE = 'interpreter';

const sends = (role: PeerRole) => role === 'publisher' || role === 'interpreter';
export type TransportDirection = 'send' | 'recv';

const id = z.string().min(1).max(100);
const dtlsParameters = z.object({
	role: z.enum(['auto', 'client', 'server']).optional(),
	fingerprints: z.array(z.object({ algorithm: z.string(), value: z.string() })).min(1)
});
// mediasoup validates RTP parameters and capabilities in depth itself.
const rtpParameters = z.custom<types.RtpParameters>(
	(v) => typeof v === 'object' && v !== null && Array.isArray((v as { codecs?: unknown }).codecs)
);
const rtpCapabilities = z.custom<types.RtpCapabilities>((v) => typeof v === 'object' && v !== null);
const producerRef = z.object({ producerId: id });

/**
 * What clients may ask for, validated here because it arrives from the
 * browser through the signaling layer unchanged.
 */
const requestSchemas = {
	getRouterRtpCapabilities: z.object({}),
	createWebRtcTransport: z.object({
		direction: z.enum(['send', 'recv']),
		/** For networks that drop UDP. */
		forceTcp: z.boolean().optional()
	}),
	connectTransport: z.object({ transportId: id, dtlsParameters }),
	produce: z.object({
		transportId: id,
		kind: z.enum(['audio', 'video']),
		rtpParameters,
		appData: z.record(z.string(), z.unknown()).optional()
	}),
	consume: z.object({ transportId: id, producerId: id, rtpCapabilities }),
	resumeConsumer: z.object({ consumerId: id }),
	setPreferredLayers: z.object({
		consumerId: id,
		spatialLayer: z.number().int().min(0),
		temporalLayer: z.number().int().min(0).optional()
	}),
	pauseProducer: producerRef,
	resumeProducer: producerRef,
	closeProducer: producerRef,
	/**
	 * The publisher swapped what a producer carries (camera ⇄ screen) with
	 * replaceTrack; the recorder starts a new part there.
	 */
	setProducerSource: z.object({ producerId: id, source: z.enum(['camera', 'screen']) }),
	restartIce: z.object({ transportId: id })
};

export type MediaMethod = keyof typeof requestSchemas;
export type MediaRequests = { [M in MediaMethod]: z.input<(typeof requestSchemas)[M]> };

export interface WebRtcTransportInfo {
	id: string;
	iceParameters: types.IceParameters;
	iceCandidates: types.IceCandidate[];
	dtlsParameters: types.DtlsParameters;
}

export interface ConsumerInfo {
	id: string;
	producerId: string;
	kind: types.MediaKind;
	rtpParameters: types.RtpParameters;
	type: types.ConsumerType;
	producerPaused: boolean;
}

export interface MediaResponses {
	getRouterRtpCapabilities: types.RtpCapabilities;
	createWebRtcTransport: WebRtcTransportInfo;
	connectTransport: Record<string, never>;
	produce: { id: string };
	consume: ConsumerInfo;
	resumeConsumer: Record<string, never>;
	setPreferredLayers: Record<string, never>;
	pauseProducer: Record<string, never>;
	resumeProducer: Record<string, never>;
	closeProducer: Record<string, never>;
	setProducerSource: Record<string, never>;
	restartIce: { iceParameters: types.IceParameters };
}

export function isMediaMethod(name: string): name is MediaMethod {
	return Object.hasOwn(requestSchemas, name);
}

/** A client-caused error; signaling can show its message to the client. */
export class MediaRequestError extends Error {
	override name = 'MediaRequestError';
}

/** The peer asked for more than one peer may hold; the room and others carry on. */
export class MediaLimitError extends MediaRequestError {
	override name = 'MediaLimitError';
}

export interface ProducerInfo {
	id: string;
	peerId: string;
	kind: types.MediaKind;
	/** The codec the producer sends, e.g. video/H264. */
	mimeType: string;
	paused: boolean;
	appData: Record<string, unknown>;
}

export interface ProducerEvent {
	/** 'source': the producer now carries another source (appData.source changed). */
	type: 'added' | 'paused' | 'resumed' | 'closed' | 'source';
	producer: ProducerInfo;
}

export interface ConsumerEvent {
	/** 'closed' here means the producer went away, so the client drops the track. */
	type: 'closed' | 'paused' | 'resumed';
	peerId: string;
	consumerId: string;
	producerId: string;
}

export interface RebuiltEvent {
	classId: string;
	/** Peers whose transports are gone; they must redo transports and produce/consume. */
	peerIds: string[];
}

export interface ClassRoomEvents {
	producer: [ProducerEvent];
	consumer: [ConsumerEvent];
	rebuilt: [RebuiltEvent];
	/** The room's viewer count changed (recorders are not viewers). */
	viewers: [number];
	/** This peer was taken out: another joined in its sending role (one studio per class). */
	replaced: [string];
	closed: [];
}

export interface TransportQuality {
	peerId: string;
	role: PeerRole;
	transportId: string;
	type: 'webrtc' | 'plain';
	direction: TransportDirection;
	iceState?: types.IceState;
	dtlsState?: types.DtlsState;
	recvBitrate: number;
	sendBitrate: number;
	availableOutgoingBitrate?: number;
	/** Lowest score (0-10) among the transport's producers or consumers. */
	minScore?: number;
	producerCount: number;
	consumerCount: number;
}

export interface RouterSummary {
	routerId: string;
	workerPid: number;
	/** false for the router holding the publishers; true for piped fan-out routers. */
	fanOut: boolean;
	peerCount: number;
	consumerCount: number;
}

export interface ClassRoomStats {
	classId: string;
	publisherCount: number;
	viewerCount: number;
	routers: RouterSummary[];
	transports: TransportQuality[];
}

/** What one room holds now, counted without asking the workers. */
export interface RoomLoad {
	routers: number;
	/** Peers by role. */
	peers: Record<PeerRole, number>;
	transports: number;
	producers: number;
	consumers: number;
	/**
	 * Open consumers by score, index 0-10. mediasoup lowers a consumer's score
	 * with the packet loss its receiver reports, so 10 is a clean stream.
	 */
	consumerScores: number[];
}

export function emptyRoomLoad(): RoomLoad {
	return {
		routers: 0,
		peers: { publisher: 0, interpreter: 0, viewer: 0, recorder: 0 },
		transports: 0,
		producers: 0,
		consumers: 0,
		consumerScores: new Array<number>(11).fill(0)
	};
}

/** Adds `more` into `total`: a server's load is its rooms' loads added up. */
export function addRoomLoad(total: RoomLoad, more: RoomLoad): void {
	total.routers += more.routers;
	for (const role of Object.keys(more.peers) as PeerRole[]) total.peers[role] += more.peers[role];
	total.transports += more.transports;
	total.producers += more.producers;
	total.consumers += more.consumers;
	more.consumerScores.forEach((n, score) => (total.consumerScores[score]! += n));
}

export interface PlainTransportOptions {
	direction: TransportDirection;
	/** Local address; loopback suits an FFmpeg recorder or ingest on the same host. */
	listenIp?: string;
	rtcpMux?: boolean;
	/** Learn the remote address from the first packet instead of connect(). */
	comedia?: boolean;
	enableSrtp?: boolean;
}

/** mediasoup does not expose which transport a producer or consumer is on. */
const transportIds = new WeakMap<types.Producer | types.Consumer, string>();

interface RouterSlot {
	router: types.Router;
	worker: types.Worker;
	fanOut: boolean;
}

type TransportEntry = { direction: TransportDirection } & (
	| { type: 'webrtc'; transport: types.WebRtcTransport }
	| { type: 'plain'; transport: types.PlainTransport }
);

interface Peer {
	id: string;
	role: PeerRole;
	/** Router all of the peer's transports live on; chosen at its first transport. */
	slot?: RouterSlot;
	transports: Map<string, TransportEntry>;
	producers: Map<string, types.Producer>;
	consumers: Map<string, types.Consumer>;
	/** Requests under way, counted against the peer's limits. */
	pendingTransports: number;
	pendingProducers: number;
	consuming: Set<string>;
}

/**
 * The media side of one live class. Publishers' producers live on the first
 * router; once a router carries maxConsumersPerRouter consumers, new viewers
 * go to a fan-out router on another worker, fed through pipeToRouter. It
 * knows peer ids and roles only; who may be which is the signaling layer's
 * business.
 */
export class ClassRoom extends EventEmitter<ClassRoomEvents> {
	readonly classId: string;
	readonly #config: MediaServerConfig;
	readonly #pool: WorkerPool;
	readonly #logger: MediaLogger;
	readonly #peers = new Map<string, Peer>();
	readonly #producers = new Map<string, { producer: types.Producer; peerId: string }>();
	#slots: RouterSlot[] = [];
	/** Settles once the origin router exists; replaced while rebuilding. */
	#ready: Promise<void>;
	/** Serializes viewer placement so concurrent joins do not overfill a router. */
	#placement: Promise<unknown> = Promise.resolve();
	readonly #lostSlots = new Set<RouterSlot>();
	#closed = false;

	private constructor(
		classId: string,
		config: MediaServerConfig,
		pool: WorkerPool,
		logger: MediaLogger
	) {
		super();
		this.classId = classId;
		this.#config = config;
		this.#pool = pool;
		this.#logger = logger;
		this.#ready = this.#createOrigin();
	}

	static async create(
		classId: string,
		config: MediaServerConfig,
		pool: WorkerPool,
		logger: MediaLogger
	): Promise<ClassRoom> {
		const room = new ClassRoom(classId, config, pool, logger);
		await room.#ready;
		return room;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/**
	 * Adds a peer; a peer id that is already present starts over (a reconnect).
	 * A class has one studio and one interpreter studio: a peer joining in
	 * one of those roles replaces the one that held it, wherever that peer's
	 * connection is, so the rule holds however many app processes relay.
	 */
	join(peerId: string, role: PeerRole): void {
		this.#assertOpen();
		this.leave(peerId);
		if (sends(role)) {
			for (const other of [...this.#peers.values()]) {
				if (other.role !== role) continue;
				this.leave(other.id);
				this.emit('replaced', other.id);
			}
		}
		this.#peers.set(peerId, {
			id: peerId,
			role,
			transports: new Map(),
			producers: new Map(),
			consumers: new Map(),
			pendingTransports: 0,
			pendingProducers: 0,
			consuming: new Set()
		});
		if (role === 'viewer') this.emit('viewers', this.viewerCount);
	}

	leave(peerId: string): void {
		const peer = this.#peers.get(peerId);
		if (!peer) return;
		this.#peers.delete(peerId);
		for (const { transport } of peer.transports.values()) transport.close();
		if (peer.slot) this.#closeSlotIfIdle(peer.slot);
		if (peer.role === 'viewer') this.emit('viewers', this.viewerCount);
	}

	hasPeer(peerId: string): boolean {
		return this.#peers.has(peerId);
	}

	get viewerCount(): number {
		let count = 0;
		for (const peer of this.#peers.values()) if (peer.role === 'viewer') count++;
		return count;
	}

	/** Producers a joining viewer should consume. */
	listProducers(): ProducerInfo[] {
		return [...this.#producers.values()].map(({ producer, peerId }) =>
			producerInfo(producer, peerId)
		);
	}

	/** Handles one client request for the peer. Throws MediaRequestError on bad input. */
	async request<M extends MediaMethod>(
		peerId: string,
		method: M,
		data: MediaRequests[M]
	): Promise<MediaResponses[M]> {
		await this.#ready;
		this.#assertOpen();
		const peer = this.#peer(peerId);
		if (!isMediaMethod(method)) throw new MediaRequestError(`unknown method ${String(method)}`);
		const parsed = requestSchemas[method].safeParse(data);
		if (!parsed.success) {
			throw new MediaRequestError(`invalid ${method} request: ${z.prettifyError(parsed.error)}`);
		}
		return (await this.#handle(peer, method, parsed.data)) as MediaResponses[M];
	}

	/**
	 * Server-side RTP endpoint for the peer (an FFmpeg recorder or ingest). Its
	 * id works as transportId in produce/consume requests. Not reachable from
	 * clients, because a plain transport sends to whatever address it is given.
	 */
	async createPlainTransport(
		peerId: string,
		options: PlainTransportOptions
	): Promise<types.PlainTransport> {
		await this.#ready;
		this.#assertOpen();
		const peer = this.#peer(peerId);
		const slot = await this.#slotFor(peer, options.direction);
		const transport = await slot.router.createPlainTransport({
			listenIp: options.listenIp ?? '127.0.0.1',
			rtcpMux: options.rtcpMux ?? true,
			comedia: options.comedia ?? false,
			enableSrtp: options.enableSrtp ?? false,
			appData: { peerId, direction: options.direction }
		});
		this.#addTransport(peer, { type: 'plain', transport, direction: options.direction });
		return transport;
	}

	load(): RoomLoad {
		const load = { ...emptyRoomLoad(), routers: this.#slots.length };
		for (const peer of this.#peers.values()) {
			load.peers[peer.role]++;
			load.transports += peer.transports.size;
			load.producers += peer.producers.size;
			load.consumers += peer.consumers.size;
			for (const consumer of peer.consumers.values()) {
				const score = Math.min(10, Math.max(0, Math.round(consumer.score.score)));
				load.consumerScores[score]!++;
			}
		}
		return load;
	}

	async getStats(): Promise<ClassRoomStats> {
		await this.#ready;
		const transports: Promise<TransportQuality>[] = [];
		let publisherCount = 0;
		for (const peer of this.#peers.values()) {
			if (sends(peer.role)) publisherCount++;
			for (const entry of peer.transports.values()) transports.push(transportQuality(peer, entry));
		}
		return {
			classId: this.classId,
			publisherCount,
			viewerCount: this.#peers.size - publisherCount,
			routers: this.#slots.map((slot) => {
				let peerCount = 0;
				let consumerCount = 0;
				for (const peer of this.#peers.values()) {
					if (peer.slot !== slot) continue;
					peerCount++;
					consumerCount += peer.consumers.size;
				}
				return {
					routerId: slot.router.id,
					workerPid: slot.worker.pid,
					fanOut: slot.fanOut,
					peerCount,
					consumerCount
				};
			}),
			transports: await Promise.all(transports)
		};
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const slot of this.#slots) slot.router.close();
		this.#slots = [];
		this.#peers.clear();
		this.#producers.clear();
		this.emit('closed');
	}

	async #handle(peer: Peer, method: MediaMethod, data: unknown): Promise<unknown> {
		switch (method) {
			case 'getRouterRtpCapabilities':
				return this.#origin().router.rtpCapabilities;

			case 'createWebRtcTransport': {
				const { direction, forceTcp } = data as MediaRequests['createWebRtcTransport'];
				if (direction === 'send') this.#assertPublisher(peer);
				this.#assertBelow(
					peer,
					this.#webRtcTransports(peer) + peer.pendingTransports,
					sends(peer.role) ? this.#config.maxPublisherTransports : this.#config.maxViewerTransports,
					'transports'
				);
				// Counted from here until it is listed, so a burst cannot slip past the limit.
				peer.pendingTransports++;
				let transport: types.WebRtcTransport;
				try {
					const slot = await this.#slotFor(peer, direction);
					transport = await slot.router.createWebRtcTransport({
						listenIps: [{ ip: this.#config.listenIp, announcedIp: this.#config.announcedIp }],
						enableUdp: !forceTcp,
						enableTcp: true,
						preferUdp: true,
						initialAvailableOutgoingBitrate: this.#config.initialAvailableOutgoingBitrate,
						appData: { peerId: peer.id, direction }
					});
					this.#addTransport(peer, { type: 'webrtc', transport, direction });
				} finally {
					peer.pendingTransports--;
				}
				if (direction === 'send') {
					await transport.setMaxIncomingBitrate(this.#config.maxIncomingBitrate);
				}
				transport.on('dtlsstatechange', (state) => {
					if (state === 'failed') {
						this.#logger.warn('DTLS failed', { classId: this.classId, peerId: peer.id });
					}
				});
				return {
					id: transport.id,
					iceParameters: transport.iceParameters,
					iceCandidates: transport.iceCandidates,
					dtlsParameters: transport.dtlsParameters
				} satisfies WebRtcTransportInfo;
			}

			case 'connectTransport': {
				const req = data as MediaRequests['connectTransport'];
				const entry = this.#transport(peer, req.transportId);
				if (entry.type !== 'webrtc') throw new MediaRequestError('not a WebRTC transport');
				await entry.transport.connect({ dtlsParameters: req.dtlsParameters });
				return {};
			}

			case 'produce': {
				this.#assertPublisher(peer);
				this.#assertBelow(
					peer,
					peer.producers.size + peer.pendingProducers,
					this.#config.maxPublisherProducers,
					'producers'
				);
				const req = data as MediaRequests['produce'];
				const entry = this.#transport(peer, req.transportId);
				if (entry.direction !== 'send') throw new MediaRequestError('not a send transport');
				// The interpreter sends a camera only (signing needs no microphone
				// over the instructor's); only the interpreter is tagged as one.
				const interpreting = peer.role === 'interpreter';
				if (interpreting && req.kind !== 'video') {
					throw new MediaRequestError('an interpreter sends video only');
				}
				if (!interpreting && req.appData?.source === INTERPRETER_SOURCE) {
					throw new MediaRequestError('only the interpreter sends the interpreter source');
				}
				peer.pendingProducers++;
				let producer: types.Producer;
				try {
					producer = await entry.transport.produce({
						kind: req.kind,
						rtpParameters: req.rtpParameters,
						appData: {
							...req.appData,
							...(interpreting ? { source: INTERPRETER_SOURCE } : {}),
							peerId: peer.id
						}
					});
				} finally {
					peer.pendingProducers--;
				}
				// Listed by #addProducer before its first await: counted without a gap.
				transportIds.set(producer, entry.transport.id);
				await this.#addProducer(peer, producer);
				return { id: producer.id };
			}

			case 'consume': {
				const req = data as MediaRequests['consume'];
				const entry = this.#transport(peer, req.transportId);
				if (entry.direction !== 'recv') throw new MediaRequestError('not a receive transport');
				const router = peer.slot?.router;
				if (
					!router ||
					!this.#producers.has(req.producerId) ||
					!router.canConsume({ producerId: req.producerId, rtpCapabilities: req.rtpCapabilities })
				) {
					throw new MediaRequestError(`cannot consume producer ${req.producerId}`);
				}
				// A browser needs one consumer per producer. (Server-side plain
				// transports are exempt: the recorder overlaps two while it switches files.)
				const limited = entry.type === 'webrtc';
				if (
					limited &&
					(peer.consuming.has(req.producerId) || this.#webRtcConsumerOf(peer, req.producerId))
				) {
					throw new MediaLimitError(`already consuming producer ${req.producerId}`);
				}
				if (limited) peer.consuming.add(req.producerId);
				// Paused until the client has its track ready, so the first
				// keyframe is not lost (mediasoup's recommended flow).
				const consumer = await entry.transport
					.consume({
						producerId: req.producerId,
						rtpCapabilities: req.rtpCapabilities,
						paused: true
					})
					.finally(() => {
						if (limited) peer.consuming.delete(req.producerId);
					});
				transportIds.set(consumer, entry.transport.id);
				this.#addConsumer(peer, consumer);
				return {
					id: consumer.id,
					producerId: consumer.producerId,
					kind: consumer.kind,
					rtpParameters: consumer.rtpParameters,
					type: consumer.type,
					producerPaused: consumer.producerPaused
				} satisfies ConsumerInfo;
			}

			case 'resumeConsumer': {
				const { consumerId } = data as MediaRequests['resumeConsumer'];
				await this.#consumer(peer, consumerId).resume();
				return {};
			}

			case 'setPreferredLayers': {
				const req = data as MediaRequests['setPreferredLayers'];
				await this.#consumer(peer, req.consumerId).setPreferredLayers({
					spatialLayer: req.spatialLayer,
					temporalLayer: req.temporalLayer
				});
				return {};
			}

			case 'pauseProducer':
				await this.#ownProducer(peer, data).pause();
				return {};

			case 'resumeProducer':
				await this.#ownProducer(peer, data).resume();
				return {};

			case 'closeProducer':
				this.#ownProducer(peer, data).close();
				return {};

			case 'setProducerSource': {
				const { source } = data as MediaRequests['setProducerSource'];
				// A screen is the presenter's to share.
				if (peer.role !== 'publisher') {
					throw new MediaRequestError('only the publisher switches sources');
				}
				const producer = this.#ownProducer(peer, data);
				if (producer.appData.source !== source) {
					producer.appData.source = source;
					this.emit('producer', { type: 'source', producer: producerInfo(producer, peer.id) });
				}
				return {};
			}

			case 'restartIce': {
				const { transportId } = data as MediaRequests['restartIce'];
				const entry = this.#transport(peer, transportId);
				if (entry.type !== 'webrtc') throw new MediaRequestError('not a WebRTC transport');
				return { iceParameters: await entry.transport.restartIce() };
			}
		}
	}

	#addTransport(peer: Peer, entry: TransportEntry): void {
		// The peer may have left (or rejoined) while the transport was being made.
		if (this.#peers.get(peer.id) !== peer) {
			entry.transport.close();
			throw new MediaRequestError(`peer ${peer.id} has left`);
		}
		peer.transports.set(entry.transport.id, entry);
		const transport: types.Transport = entry.transport;
		transport.observer.once('close', () => peer.transports.delete(transport.id));
	}

	async #addProducer(peer: Peer, producer: types.Producer): Promise<void> {
		peer.producers.set(producer.id, producer);
		this.#producers.set(producer.id, { producer, peerId: peer.id });
		const emit = (type: ProducerEvent['type']) =>
			this.emit('producer', { type, producer: producerInfo(producer, peer.id) });
		producer.observer.on('pause', () => emit('paused'));
		producer.observer.on('resume', () => emit('resumed'));
		producer.observer.once('close', () => {
			peer.producers.delete(producer.id);
			if (this.#producers.get(producer.id)?.producer === producer) {
				this.#producers.delete(producer.id);
				emit('closed');
			}
		});
		const origin = this.#origin().router;
		try {
			await Promise.all(
				this.#slots
					.filter((slot) => slot.fanOut)
					.map((slot) => origin.pipeToRouter({ producerId: producer.id, router: slot.router }))
			);
		} catch (error) {
			// Half-piped, some viewers could never get it; let the client retry.
			producer.close();
			throw error;
		}
		emit('added');
	}

	#addConsumer(peer: Peer, consumer: types.Consumer): void {
		peer.consumers.set(consumer.id, consumer);
		const emit = (type: ConsumerEvent['type']) =>
			this.emit('consumer', {
				type,
				peerId: peer.id,
				consumerId: consumer.id,
				producerId: consumer.producerId
			});
		consumer.on('producerpause', () => emit('paused'));
		consumer.on('producerresume', () => emit('resumed'));
		consumer.on('producerclose', () => emit('closed'));
		consumer.observer.once('close', () => peer.consumers.delete(consumer.id));
	}

	/** The router for the peer's transports, chosen once per peer. */
	async #slotFor(peer: Peer, direction: TransportDirection): Promise<RouterSlot> {
		if (peer.slot && this.#slots.includes(peer.slot)) return peer.slot;
		// Publishers and anything that sends live on the origin router, where
		// every producer is.
		if (sends(peer.role) || direction === 'send') {
			peer.slot = this.#origin();
			return peer.slot;
		}
		const placed = this.#placement.then(() => this.#placeViewer(peer));
		this.#placement = placed.catch(() => undefined);
		return placed;
	}

	async #placeViewer(peer: Peer): Promise<RouterSlot> {
		// A concurrent request of the same peer may have placed it already.
		if (peer.slot && this.#slots.includes(peer.slot)) return peer.slot;
		// A viewer that has not consumed yet still counts for every producer,
		// so a burst of joins does not overfill one router.
		const perViewer = Math.max(1, this.#producers.size);
		const load = (slot: RouterSlot) => {
			let total = 0;
			for (const p of this.#peers.values()) {
				if (p.slot !== slot) continue;
				total += p.role === 'viewer' ? Math.max(p.consumers.size, perViewer) : p.consumers.size;
			}
			return total;
		};
		const limit = this.#config.maxConsumersPerRouter;
		let slot = this.#slots.find((s) => load(s) + perViewer <= limit);
		if (!slot) {
			// A piped producer keeps its id, and mediasoup 3.12 allows an id only
			// once per worker, so a class gets at most one router per worker.
			const worker = this.#pool.pickExcept(new Set(this.#slots.map((s) => s.worker)));
			if (worker) {
				slot = await this.#createFanOut(worker);
			} else {
				slot = this.#slots.reduce((a, b) => (load(b) < load(a) ? b : a));
				this.#logger.warn('every worker carries this class; router over its consumer limit', {
					classId: this.classId,
					routerId: slot.router.id
				});
			}
		}
		peer.slot = slot;
		return slot;
	}

	async #createFanOut(worker: types.Worker): Promise<RouterSlot> {
		const origin = this.#origin();
		const router = await worker.createRouter({ mediaCodecs });
		const slot: RouterSlot = { router, worker, fanOut: true };
		this.#watchSlot(slot);
		// Listed before piping, in the same tick as the snapshot of producers,
		// so a producer added meanwhile is piped exactly once (by #addProducer).
		this.#slots.push(slot);
		try {
			await Promise.all(
				[...this.#producers.keys()].map((producerId) =>
					origin.router.pipeToRouter({ producerId, router })
				)
			);
		} catch (error) {
			this.#slots = this.#slots.filter((s) => s !== slot);
			router.close();
			throw error;
		}
		this.#logger.info('fan-out router added', {
			classId: this.classId,
			routerId: router.id,
			workerPid: worker.pid,
			routers: this.#slots.length
		});
		return slot;
	}

	#closeSlotIfIdle(slot: RouterSlot): void {
		if (!slot.fanOut || !this.#slots.includes(slot)) return;
		for (const peer of this.#peers.values()) if (peer.slot === slot) return;
		this.#slots = this.#slots.filter((s) => s !== slot);
		slot.router.close();
	}

	async #createOrigin(): Promise<void> {
		for (;;) {
			const worker = await this.#pool.pick();
			try {
				const router = await worker.createRouter({ mediaCodecs });
				const slot: RouterSlot = { router, worker, fanOut: false };
				this.#watchSlot(slot);
				this.#slots = [slot, ...this.#slots];
				return;
			} catch (error) {
				// The picked worker died in between; the pool is replacing it.
				if (!worker.died) throw error;
			}
		}
	}

	#watchSlot(slot: RouterSlot): void {
		slot.router.once('workerclose', () => {
			// mediasoup closes all routers of a dead worker in one go; gather
			// them so each affected peer hears about the loss once.
			if (this.#lostSlots.size === 0) setImmediate(() => this.#recover());
			this.#lostSlots.add(slot);
		});
	}

	#recover(): void {
		const lost = [...this.#lostSlots];
		this.#lostSlots.clear();
		if (this.#closed) return;
		const originLost = lost.some((slot) => !slot.fanOut);
		// Fan-out routers only relay the origin, so they go down with it.
		const dropped = originLost ? this.#slots : lost;
		const peerIds: string[] = [];
		for (const peer of this.#peers.values()) {
			if (!peer.slot || !dropped.includes(peer.slot)) continue;
			peerIds.push(peer.id);
			peer.slot = undefined;
			peer.transports.clear();
			peer.producers.clear();
			peer.consumers.clear();
		}
		for (const slot of dropped) slot.router.close();
		this.#slots = this.#slots.filter((s) => !dropped.includes(s));
		this.#logger.warn('rebuilding class media after worker loss', {
			classId: this.classId,
			originLost,
			peers: peerIds.length
		});
		if (!originLost) {
			this.emit('rebuilt', { classId: this.classId, peerIds });
			return;
		}
		this.#ready = this.#createOrigin();
		this.#ready.then(
			() => this.emit('rebuilt', { classId: this.classId, peerIds }),
			(error: unknown) => {
				this.#logger.error('could not rebuild class media', {
					classId: this.classId,
					error: error instanceof Error ? error.message : String(error)
				});
				this.close();
			}
		);
	}

	#origin(): RouterSlot {
		const origin = this.#slots.find((s) => !s.fanOut);
		if (!origin) throw new Error(`class ${this.classId} has no router`);
		return origin;
	}

	#peer(peerId: string): Peer {
		const peer = this.#peers.get(peerId);
		if (!peer) throw new MediaRequestError(`peer ${peerId} has not joined`);
		return peer;
	}

	#transport(peer: Peer, transportId: string): TransportEntry {
		const entry = peer.transports.get(transportId);
		if (!entry) throw new MediaRequestError(`unknown transport ${transportId}`);
		return entry;
	}

	#consumer(peer: Peer, consumerId: string): types.Consumer {
		const consumer = peer.consumers.get(consumerId);
		if (!consumer) throw new MediaRequestError(`unknown consumer ${consumerId}`);
		return consumer;
	}

	#ownProducer(peer: Peer, data: unknown): types.Producer {
		const { producerId } = data as z.output<typeof producerRef>;
		const producer = peer.producers.get(producerId);
		if (!producer) throw new MediaRequestError(`unknown producer ${producerId}`);
		return producer;
	}

	#webRtcTransports(peer: Peer): number {
		let count = 0;
		for (const entry of peer.transports.values()) if (entry.type === 'webrtc') count++;
		return count;
	}

	#webRtcConsumerOf(peer: Peer, producerId: string): boolean {
		for (const consumer of peer.consumers.values()) {
			if (consumer.producerId !== producerId) continue;
			if (peer.transports.get(transportIds.get(consumer) ?? '')?.type === 'webrtc') return true;
		}
		return false;
	}

	#assertBelow(peer: Peer, held: number, limit: number, what: string): void {
		if (held >= limit) {
			throw new MediaLimitError(`a ${peer.role} may hold at most ${limit} ${what}`);
		}
	}

	#assertPublisher(peer: Peer): void {
		if (!sends(peer.role)) throw new MediaRequestError('only publishers may send media');
	}

	#assertOpen(): void {
		if (this.#closed) throw new MediaRequestError(`class ${this.classId} is closed`);
	}
}

function producerInfo(producer: types.Producer, peerId: string): ProducerInfo {
	return {
		id: producer.id,
		peerId,
		kind: producer.kind,
		mimeType: producer.rtpParameters.codecs[0]?.mimeType ?? 'unknown',
		paused: producer.paused,
		appData: producer.appData
	};
}

async function transportQuality(peer: Peer, entry: TransportEntry): Promise<TransportQuality> {
	const scores: number[] = [];
	let producerCount = 0;
	for (const producer of peer.producers.values()) {
		if (transportIds.get(producer) !== entry.transport.id) continue;
		producerCount++;
		for (const s of producer.score) scores.push(s.score);
	}
	let consumerCount = 0;
	for (const consumer of peer.consumers.values()) {
		if (transportIds.get(consumer) !== entry.transport.id) continue;
		consumerCount++;
		scores.push(consumer.score.score);
	}
	const quality: TransportQuality = {
		peerId: peer.id,
		role: peer.role,
		transportId: entry.transport.id,
		type: entry.type,
		direction: entry.direction,
		recvBitrate: 0,
		sendBitrate: 0,
		minScore: scores.length > 0 ? Math.min(...scores) : undefined,
		producerCount,
		consumerCount
	};
	if (entry.transport.closed) return quality;
	if (entry.type === 'webrtc') {
		quality.iceState = entry.transport.iceState;
		quality.dtlsState = entry.transport.dtlsState;
	}
	const [stat] = await entry.transport.getStats();
	if (stat) {
		quality.recvBitrate = stat.recvBitrate;
		quality.sendBitrate = stat.sendBitrate;
		quality.availableOutgoingBitrate = stat.availableOutgoingBitrate;
	}
	return quality;
}
