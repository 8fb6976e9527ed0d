import { z } from 'zod';

/**
 * Wire protocol of the live-class media namespace, shared by the server
 * (src/lib/server/media/namespace.ts) and the browser (src/lib/media/*).
 *
 * Client → server (all with an acknowledgement callback):
 * - 'live:join'    { classId, role, recvTransport? } → JoinReply
 * - 'live:media'   { method, data }       → MediaReply (relayed to the SFU room)
 * - 'live:go'      {}                     → StatusReply (publisher: class becomes LIVE)
 * - 'live:end'     {}                     → StatusReply (publisher: class becomes ENDED)
 * - 'live:stats'   {}                     → StatsReply  (publisher: server-side quality)
 *
 * Server → client:
 * - 'live:status'   LiveStatusEvent   class status changed (LIVE / ENDED)
 * - 'live:viewers'  { count }         viewer count of the class
 * - 'live:producer' ProducerEvent     publisher's tracks appeared / paused / closed
 * - 'live:consumer' ConsumerEvent     one of my consumers' producer paused / resumed / closed
 * - 'live:rebuilt'  {}                the SFU lost my transports (worker died): redo them
 */
export const MEDIA_NAMESPACE = '/media';

export const liveRoleSchema = z.enum(['publisher', 'viewer']);
export type LiveRole = z.infer<typeof liveRoleSchema>;

export const joinSchema = z.object({
	classId: z.uuid(),
	role: liveRoleSchema,
	/** Also create a receive transport, saving a viewer one round trip. */
	recvTransport: z.boolean().optional()
});
export type JoinRequest = z.infer<typeof joinSchema>;

export const mediaMessageSchema = z.object({
	method: z.string().min(1).max(40),
	data: z.record(z.string(), z.unknown()).default({})
});
export type MediaMessage = z.input<typeof mediaMessageSchema>;

export const emptySchema = z.object({}).strict().optional();

export type LiveClassStatus = 'SCHEDULED' | 'LIVE' | 'ENDED' | 'CANCELLED';

export type ProducerSummary = { id: string; kind: 'audio' | 'video'; paused: boolean };

export type LiveError = { ok: false; error: LiveErrorCode; message?: string };

/** Error codes; the UI maps them to `live_error_*` messages. */
export type LiveErrorCode =
	'invalid' | 'not_found' | 'forbidden' | 'not_joined' | 'bad_state' | 'media' | 'server';

export type JoinReply =
	| {
			ok: true;
			status: LiveClassStatus;
			viewerCount: number;
			producers: ProducerSummary[];
			/** The class router's RTP capabilities (absent when the class is over). */
			routerRtpCapabilities?: unknown;
			/** The receive transport's options, when asked for and the class is not over. */
			recvTransport?: unknown;
	  }
	| LiveError;

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
	type: 'added' | 'paused' | 'resumed' | 'closed';
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
