import type { types } from 'mediasoup';
import { z } from 'zod';
import type {
	ClassRoomStats,
	ConsumerEvent,
	MediaResponses,
	ProducerEvent,
	ProducerInfo,
	RebuiltEvent
} from '../class-room.js';
import type { MediaServerConfig } from '../config.js';
import type { MediaLoad } from '../media-service.js';

/**
 * The control protocol between app processes and a media server running as
 * its own service (`npm run media-server`). App processes connect over
 * socket.io, authenticated by the shared MEDIA_CONTROL_SECRET, and relay
 * their live-class peers' requests; the media server tells them what its
 * rooms and recordings do. Typed once, here, for both ends: the server
 * validates every request against its schema below.
 */

/** socket.io path of the control endpoint (apart from the app's own /socket.io). */
export const CONTROL_PATH = '/media-control';

const classId = z.string().min(1).max(100);
const peerId = z.string().min(1).max(200);
const recordingId = z.string().min(1).max(200);

export const controlSchemas = {
	/** Who the server is, and what its rooms offer. */
	'server:hello': z.object({}),
	'server:load': z.object({}),
	/** The class's room, created on first use; the connection hears its events from then on. */
	'room:open': z.object({ classId }),
	'room:join': z.object({
		classId,
		peerId,
		role: z.enum(['publisher', 'interpreter', 'viewer', 'recorder'])
	}),
	'room:leave': z.object({ classId, peerId }),
	/** One peer's request, checked by the room against the method's own schema. */
	'room:request': z.object({
		classId,
		peerId,
		method: z.string().min(1).max(40),
		data: z.record(z.string(), z.unknown())
	}),
	'room:stats': z.object({ classId }),
	'room:close': z.object({ classId }),
	'recording:start': z.object({
		classId,
		recordingId,
		/** Relative to the media server's RECORDINGS_DIR. */
		dir: z.string().min(1).max(500),
		resume: z.boolean()
	}),
	'recording:stop': z.object({ recordingId })
};

export type ControlMethod = keyof typeof controlSchemas;
export type ControlRequest<M extends ControlMethod> = z.input<(typeof controlSchemas)[M]>;

export type ServerHello = {
	/** The media server's own name (MEDIA_SERVER_ID, or host:port). */
	serverId: string;
	config: MediaServerConfig;
	routerRtpCapabilities: types.RtpCapabilities;
};

/** What each request answers with. */
export interface ControlResults {
	'server:hello': ServerHello;
	'server:load': MediaLoad;
	'room:open': { producers: ProducerInfo[]; viewerCount: number };
	'room:join': Record<string, never>;
	'room:leave': Record<string, never>;
	'room:request': MediaResponses[keyof MediaResponses];
	'room:stats': ClassRoomStats;
	'room:close': Record<string, never>;
	'recording:start': { startedAt: number };
	'recording:stop': { endedAt: number | null };
}

/**
 * 'request' and 'limit' are the peer's own doing (MediaRequestError,
 * MediaLimitError) and their message may reach the browser; 'invalid' is a
 * malformed control message; 'server' anything else.
 */
export type ControlErrorKind = 'invalid' | 'request' | 'limit' | 'server';
export type ControlReply<T> =
	{ ok: true; data: T } | { ok: false; error: ControlErrorKind; message: string };

/** App → media server; each is acknowledged. */
export type ControlClientEvents = {
	[M in ControlMethod]: (
		payload: ControlRequest<M>,
		ack: (reply: ControlReply<ControlResults[M]>) => void
	) => void;
};

/** Media server → the app processes using the room (or the peer, for consumer events). */
export interface ControlServerEvents {
	'room:producer': (event: { classId: string } & ProducerEvent) => void;
	'room:consumer': (event: { classId: string } & ConsumerEvent) => void;
	'room:rebuilt': (event: RebuiltEvent) => void;
	'room:viewers': (event: { classId: string; count: number }) => void;
	'room:replaced': (event: { classId: string; peerId: string }) => void;
	'room:closed': (event: { classId: string }) => void;
	'recording:playlist': (event: { recordingId: string }) => void;
	'recording:stopped': (event: { recordingId: string; endedAt: number | null }) => void;
}

/** The handshake's auth field: the shared secret. */
export const controlAuthSchema = z.object({ secret: z.string().min(1).max(500) });
