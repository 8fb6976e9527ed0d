import type { Namespace, Server, Socket } from 'socket.io';
import {
	isMediaMethod,
	MediaRequestError,
	type ClassRoom,
	type MediaServer,
	type ProducerInfo
} from '../../../../media-server/src/index.ts';
import {
	MEDIA_NAMESPACE,
	VIEWER_METHODS,
	emptySchema,
	joinSchema,
	mediaMessageSchema,
	type ConsumerEvent,
	type JoinReply,
	type LiveError,
	type LiveErrorCode,
	type LiveRole,
	type LiveStatusEvent,
	type MediaReply,
	type ProducerEvent,
	type ProducerSummary,
	type StatsReply,
	type StatusReply
} from '../../media/protocol.ts';
import type { SessionUser } from '../auth/session.ts';
import type { Db } from '../db/client.ts';
import {
	canPublish,
	canWatchClass,
	endLive,
	goLive,
	onLiveStatusChange,
	type LiveStatusResult
} from '../live-status.ts';
import { sessionSocketAuth, socketUser } from '../realtime/socket-auth.ts';
import { getMediaServer } from './media-service.ts';

export type MediaDeps = {
	getDb: () => Promise<Db>;
	sessionDays: number;
	getMediaServer?: () => Promise<MediaServer>;
};

type Joined = { classId: string; role: LiveRole; user: SessionUser; room: ClassRoom };
type Ack<T> = ((reply: T) => void) | undefined;

const REGISTERED = Symbol.for('taxpayer-classroom.media-registered');

/** socket.io room of everyone on one class's live page. */
const classRoomName = (classId: string) => `live:${classId}`;

const fail = (error: LiveErrorCode, message?: string): LiveError => ({ ok: false, error, message });

function summary(p: Pick<ProducerInfo, 'id' | 'kind' | 'paused'>): ProducerSummary {
	return { id: p.id, kind: p.kind, paused: p.paused };
}

function statusEvent(change: {
	classId: string;
	status: LiveStatusEvent['status'];
	wentLiveAt: Date | null;
	endedAt: Date | null;
}): LiveStatusEvent {
	return {
		classId: change.classId,
		status: change.status,
		wentLiveAt: change.wentLiveAt?.toISOString() ?? null,
		endedAt: change.endedAt?.toISOString() ?? null
	};
}

/**
 * Live-class signaling: authenticates with the session cookie, authorizes
 * publishers (the class's instructor, admins) and viewers (CONFIRMED
 * registrants, instructor, staff, admins), validates every message, and relays
 * media requests to the class's SFU room. Peer id in the room = socket id.
 */
export function registerMediaNamespace(io: Server, deps: MediaDeps): Namespace {
	const nsp = io.of(MEDIA_NAMESPACE);
	const registered = nsp as Namespace & { [REGISTERED]?: boolean };
	if (registered[REGISTERED]) return nsp;
	registered[REGISTERED] = true;

	const media = deps.getMediaServer ?? getMediaServer;
	const wired = new WeakSet<ClassRoom>();
	const viewers = new Map<string, Set<string>>();

	nsp.use(sessionSocketAuth(deps));

	function wire(room: ClassRoom): ClassRoom {
		if (wired.has(room)) return room;
		wired.add(room);
		const target = nsp.to(classRoomName(room.classId));
		room.on('producer', (e) =>
			target.emit('live:producer', {
				type: e.type,
				producer: summary(e.producer)
			} satisfies ProducerEvent)
		);
		room.on('consumer', (e) =>
			nsp.to(e.peerId).emit('live:consumer', {
				type: e.type,
				consumerId: e.consumerId,
				producerId: e.producerId
			} satisfies ConsumerEvent)
		);
		room.on('rebuilt', (e) => {
			for (const peerId of e.peerIds) nsp.to(peerId).emit('live:rebuilt', {});
		});
		return room;
	}

	async function openRoom(classId: string): Promise<ClassRoom> {
		return wire(await (await media()).getOrCreateRoom(classId));
	}

	function viewerCount(classId: string): number {
		return viewers.get(classId)?.size ?? 0;
	}

	function broadcastViewers(classId: string) {
		nsp.to(classRoomName(classId)).emit('live:viewers', { count: viewerCount(classId) });
	}

	onLiveStatusChange(async (change) => {
		nsp.to(classRoomName(change.classId)).emit('live:status', statusEvent(change));
		if (change.status === 'ENDED') await (await media()).closeRoom(change.classId);
	});

	function leave(socket: Socket) {
		const joined = socket.data.live as Joined | undefined;
		if (!joined) return;
		socket.data.live = undefined;
		void socket.leave(classRoomName(joined.classId));
		if (!joined.room.closed) joined.room.leave(socket.id);
		const set = viewers.get(joined.classId);
		if (set?.delete(socket.id)) {
			if (set.size === 0) viewers.delete(joined.classId);
			broadcastViewers(joined.classId);
		}
	}

	nsp.on('connection', (socket) => {
		const user = socketUser(socket);
		socket.data.live = undefined;
		const joined = () => socket.data.live as Joined | undefined;

		socket.on('live:join', async (payload: unknown, ack: Ack<JoinReply>) => {
			if (typeof ack !== 'function') return;
			const parsed = joinSchema.safeParse(payload);
			if (!parsed.success) return ack(fail('invalid'));
			const { classId, role } = parsed.data;
			try {
				const db = await deps.getDb();
				const cls = await db.policyClass.findUnique({
					where: { id: classId },
					select: { id: true, instructorId: true, status: true }
				});
				if (!cls) return ack(fail('not_found'));
				const allowed =
					role === 'publisher' ? canPublish(user, cls) : await canWatchClass(db, user, cls);
				if (!allowed) return ack(fail('forbidden'));
				const active = cls.status === 'SCHEDULED' || cls.status === 'LIVE';
				if (role === 'publisher' && !active) return ack(fail('bad_state'));
				leave(socket);
				if (!active) {
					return ack({ ok: true, status: cls.status, viewerCount: 0, producers: [] });
				}
				const room = await openRoom(classId);
				if (role === 'publisher') {
					// One studio per class: a newer studio tab replaces the older one.
					for (const other of nsp.sockets.values()) {
						const o = other.data.live as Joined | undefined;
						if (other.id !== socket.id && o?.classId === classId && o.role === 'publisher') {
							leave(other);
							other.emit('live:replaced', {});
							other.disconnect(true);
						}
					}
				}
				room.join(socket.id, role);
				socket.data.live = { classId, role, user, room } satisfies Joined;
				await socket.join(classRoomName(classId));
				if (role === 'viewer') {
					let set = viewers.get(classId);
					if (!set) viewers.set(classId, (set = new Set()));
					set.add(socket.id);
					broadcastViewers(classId);
				}
				// Each saves the client a round trip before it can consume.
				const [routerRtpCapabilities, recvTransport] = await Promise.all([
					room.request(socket.id, 'getRouterRtpCapabilities', {}),
					parsed.data.recvTransport
						? room.request(socket.id, 'createWebRtcTransport', { direction: 'recv' })
						: undefined
				]);
				ack({
					ok: true,
					status: cls.status,
					viewerCount: viewerCount(classId),
					producers: room.listProducers().map(summary),
					routerRtpCapabilities,
					recvTransport
				});
			} catch (err) {
				console.error('live:join failed', err);
				ack(fail('server'));
			}
		});

		socket.on('live:media', async (payload: unknown, ack: Ack<MediaReply>) => {
			if (typeof ack !== 'function') return;
			const me = joined();
			if (!me) return ack(fail('not_joined'));
			const parsed = mediaMessageSchema.safeParse(payload);
			if (!parsed.success || !isMediaMethod(parsed.data.method)) return ack(fail('invalid'));
			const { method, data } = parsed.data;
			if (me.role === 'viewer') {
				if (!VIEWER_METHODS.has(method)) return ack(fail('forbidden'));
				if (method === 'createWebRtcTransport' && data.direction !== 'recv') {
					return ack(fail('forbidden'));
				}
			}
			try {
				const room = me.room;
				if (room.closed) return ack(fail('bad_state'));
				// The room validates `data` against the method's own schema.
				ack({ ok: true, data: await room.request(socket.id, method, data as never) });
			} catch (err) {
				if (err instanceof MediaRequestError) return ack(fail('media', err.message));
				console.error('live:media failed', method, err);
				ack(fail('server'));
			}
		});

		const transition =
			(run: (db: Db, classId: string, actor: SessionUser) => Promise<LiveStatusResult>) =>
			async (payload: unknown, ack: Ack<StatusReply>) => {
				if (typeof ack !== 'function') return;
				if (!emptySchema.safeParse(payload).success) return ack(fail('invalid'));
				const me = joined();
				if (!me) return ack(fail('not_joined'));
				if (me.role !== 'publisher') return ack(fail('forbidden'));
				try {
					const result = await run(await deps.getDb(), me.classId, user);
					if (!result.ok) return ack(fail(result.reason));
					ack({ ok: true, status: result.change.status });
				} catch (err) {
					console.error('live status change failed', err);
					ack(fail('server'));
				}
			};
		socket.on('live:go', transition(goLive));
		socket.on('live:end', transition(endLive));

		socket.on('live:stats', async (payload: unknown, ack: Ack<StatsReply>) => {
			if (typeof ack !== 'function') return;
			if (!emptySchema.safeParse(payload).success) return ack(fail('invalid'));
			const me = joined();
			if (!me) return ack(fail('not_joined'));
			if (me.role !== 'publisher') return ack(fail('forbidden'));
			try {
				const stats = me.room.closed ? undefined : await me.room.getStats();
				const mine = stats?.transports.filter((t) => t.peerId === socket.id) ?? [];
				const scores = mine.map((t) => t.minScore).filter((s): s is number => s !== undefined);
				ack({
					ok: true,
					quality: {
						score: scores.length > 0 ? Math.min(...scores) : undefined,
						recvBitrate: mine.reduce((sum, t) => sum + t.recvBitrate, 0),
						iceState: mine[0]?.iceState,
						viewerCount: viewerCount(me.classId)
					}
				});
			} catch (err) {
				console.error('live:stats failed', err);
				ack(fail('server'));
			}
		});

		socket.on('disconnect', () => leave(socket));
	});

	return nsp;
}
