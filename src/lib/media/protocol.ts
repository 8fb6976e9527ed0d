import { z } from '../zod.ts';

/**
 * Wire protocol of the live-class media namespace, shared by the server
 * (src/lib/server/media/namespace.ts) and the browser (src/lib/media/*):
 * the socket.io event maps below type both ends, and every client payload
 * has its zod schema, checked by the server. Its plain values live in
 * wire-constants.ts, so browser code can read them without loading zod.
 */
export { MEDIA_NAMESPACE } from './wire-constants.ts';

type Ack<T> = (reply: T) => void;
type Empty = Record<string, never>;

/** Client → server; each is acknowledged. */
export interface MediaClientEvents {
	'live:join': (payload: JoinRequest, ack: Ack<JoinReply>) => void;
	/** Relayed to the class's SFU room (see media-server's ClassRoom.request). */
	'live:media': (payload: MediaMessage, ack: Ack<MediaReply>) => void;
	/** Publisher: the class becomes LIVE. */
	'live:go': (payload: Empty, ack: Ack<StatusReply>) => void;
	/** Publisher: the class becomes ENDED. */
	'live:end': (payload: Empty, ack: Ack<StatusReply>) => void;
	/** Publisher: server-side quality of my streams. */
	'live:stats': (payload: Empty, ack: Ack<StatsReply>) => void;
}

/** Server → client. */
export interface MediaServerEvents {
	/** The class's status changed (LIVE, ENDED, CANCELLED). */
	'live:status': (event: LiveStatusEvent) => void;
	'live:viewers': (event: { count: number }) => void;
	/** The publisher's tracks appeared, paused, resumed or closed. */
	'live:producer': (event: ProducerEvent) => void;
	/** One of my consumers' producer paused, resumed or closed. */
	'live:consumer': (event: ConsumerEvent) => void;
	/** The SFU lost my transports (a worker died): redo them. */
	'live:rebuilt': (event: Empty) => void;
	/** Another studio tab took over this class. */
	'live:replaced': (event: Empty) => void;
	/** What I may do in the class changed: join again to learn what. */
	'live:access': (event: { classId: string }) => void;
	/** My session ended (signed out, expired): the connection closes. */
	'session:ended': (event: Empty) => void;
}

/** 'interpreter': the class's sign-language interpreter, publishing a camera beside the instructor. */
export const liveRoleSchema = z.enum(['publisher', 'interpreter', 'viewer']);
export type LiveRole = z.infer<typeof liveRoleSchema>;

export const joinSchema = z.object({
	classId: z.uuid(),
	role: liveRoleSchema,
	/** Also create a receive transport, saving a viewer one round trip. */
	recvTransport: z.boolean().optional(),
	/**
	 * The viewer's Device capabilities: with a receive transport, the server
	 * also creates (paused) consumers of the producers the class has, saving
	 * another round trip. mediasoup checks them in depth.
	 */
	rtpCapabilities: z.record(z.string(), z.unknown()).optional(),
	/**
	 * A viewer watching the class's HLS stream instead: present in the class
	 * (attendance, status events) without an SFU peer or a WebRTC seat.
	 */
	hls: z.boolean().optional()
});
export type JoinRequest = z.infer<typeof joinSchema>;

export const mediaMessageSchema = z.object({
	method: z.string().min(1).max(40),
	data: z.record(z.string(), z.unknown()).default({})
});
export type MediaMessage = z.input<typeof mediaMessageSchema>;

export const emptySchema = z.object({}).strict().optional();

export type LiveClassStatus = 'SCHEDULED' | 'LIVE' | 'ENDED' | 'CANCELLED';

export type ProducerSummary = {
	id: string;
	kind: 'audio' | 'video';
	paused: boolean;
	/** The sign-language interpreter's camera, shown picture-in-picture. */
	interpreter?: true;
};

export type LiveError = { ok: false; error: LiveErrorCode; message?: string };

/** Error codes; the UI maps them to `live_error_*` messages. */
export type LiveErrorCode =
	| 'invalid'
	| 'not_found'
	| 'forbidden'
	| 'not_joined'
	| 'bad_state'
	| 'media'
	| 'server'
	/** Another join of this connection is still under way. */
	| 'busy'
	/** The user already watches this class on as many connections as allowed. */
	| 'too_many_connections'
	/** More transports, producers or consumers than one connection may hold. */
	| 'limit'
	/** The class's WebRTC capacity is reached: watch its HLS stream instead. */
	| 'overflow';

/**
 * Why a joined viewer gets no media yet: on the waitlist (a seat may free
 * up), or too early before the start. Either changes by an event.
 */
export type JoinWaiting = 'seat' | 'opening';

export type JoinReply =
	| {
			ok: true;
			status: LiveClassStatus;
			viewerCount: number;
			producers: ProducerSummary[];
			waiting?: JoinWaiting;
			/** The class router's RTP capabilities (absent when the class is over). */
			routerRtpCapabilities?: unknown;
			/** The receive transport's options, when asked for and the class is not over. */
			recvTransport?: unknown;
			/** Paused consumers on that transport, one per producer, when capabilities came along. */
			consumers?: JoinConsumer[];
	  }
	| LiveError;

/** A consumer the server made at the join; the client resumes it once its track is ready. */
export type JoinConsumer = {
	id: string;
	producerId: string;
	kind: 'audio' | 'video';
	rtpParameters: unknown;
};

export type MediaReply = { ok: true; data: unknown } | LiveError;

export type StatusReply = { ok: true; status: LiveClassStatus } | LiveError;

export type PublisherQuality = {
	/** Lowest mediasoup score (0-10) of my producers; undefined before media flows. */
	score?: number;
	/** What the SFU receives from me, bits/s. */
	recvBitrate: number;
	iceState?: string;
	viewerCount: number;
};
export type StatsReply = { ok: true; quality: PublisherQuality } | LiveError;

export type LiveStatusEvent = {
	classId: string;
	status: LiveClassStatus;
	wentLiveAt: string | null;
	endedAt: string | null;
};

export type ProducerEvent = {
	/** 'source': the publisher switched what the producer carries (camera ⇄ screen). */
	type: 'added' | 'paused' | 'resumed' | 'closed' | 'source';
	producer: ProducerSummary;
};

export type ConsumerEvent = {
	type: 'closed' | 'paused' | 'resumed';
	consumerId: string;
	producerId: string;
};

/** Methods a viewer may relay to the SFU; everything else is for publishers only. */
export const VIEWER_METHODS: ReadonlySet<string> = new Set([
	'getRouterRtpCapabilities',
	'createWebRtcTransport',
	'connectTransport',
	'consume',
	'resumeConsumer',
	'setPreferredLayers',
	'restartIce'
]);
