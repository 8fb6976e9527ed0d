import type { Namespace, Server, Socket } from 'socket.io';
import {
	INTERPRETER_SOURCE,
	isMediaMethod,
	MediaLimitError,
	MediaRequestError,
	type MediaRoom,
	type MediaService,
	type ProducerInfo
} from '../../../../media-server/src/index.ts';
import {
	MEDIA_NAMESPACE,
	VIEWER_METHODS,
	emptySchema,
	joinSchema,
	mediaMessageSchema,
	type JoinConsumer,
	type JoinReply,
	type JoinRequest,
	type JoinWaiting,
	type LiveError,
	type LiveErrorCode,
	type LiveRole,
	type LiveStatusEvent,
	type MediaClientEvents,
	type MediaServerEvents,
	type ProducerSummary,
	type StatusReply
} from '../../media/protocol.ts';
import {
	classAccess,
	liveMediaOpen,
	may,
	type CachedAccessFacts,
	type ClassAccess
} from '../class-access.ts';
import type { ClassLifecycle, TransitionResult } from '../class-lifecycle.ts';
import type { ClassLifecycleEvent, EventBus } from '../events.ts';
import {
	localSocketsIn,
	socketUser,
	userRoom,
	type SocketSessions
} from '../realtime/socket-sessions.ts';
import { mustOverflow, noteWebRtcViewers } from '../recordings/audience.ts';

export type MediaDeps = {
	/** Where access is decided from (a cache in front of the database, in the app). */
	accessFacts: CachedAccessFacts;
	events: EventBus;
	sessions: SocketSessions;
	lifecycle: ClassLifecycle;
	media: () => Promise<MediaService>;
	now?: () => Date;
	/** Live connections one user may have open in one class (tabs, devices). */
	maxSocketsPerUserAndClass?: number;
};

type MediaNamespace = Namespace<MediaClientEvents, MediaServerEvents>;
type MediaSocket = Socket<MediaClientEvents, MediaServerEvents>;

/** A socket's place in a class: in its SFU room, or waiting (`room` null) for a seat or the start. */
type Joined = {
	classId: string;
	role: LiveRole;
	userId: string;
	room: MediaRoom | null;
	waiting?: JoinWaiting;
	/** Watching the HLS stream: present in the class, with no SFU peer and no WebRTC seat. */
	hls?: true;
};

type SocketState = { live?: Joined; joining?: boolean };

/** socket.io room of everyone on one class's live page. */
const classRoomName = (classId: string) => `live:${classId}`;
/** socket.io room of a class's studios (instructor and interpreter): they show the viewer count. */
const presentersRoomName = (classId: string) => `live:${classId}:presenters`;

const fail = (error: LiveErrorCode, message?: string): LiveError => ({ ok: false, error, message });

function summary(p: Pick<ProducerInfo, 'id' | 'kind' | 'paused' | 'appData'>): ProducerSummary {
	const base = { id: p.id, kind: p.kind, paused: p.paused };
	return p.appData.source === INTERPRETER_SOURCE ? { ...base, interpreter: true } : base;
}

function statusEvent(event: ClassLifecycleEvent): LiveStatusEvent | null {
	switch (event.type) {
		case 'live':
			return {
				classId: event.classId,
				status: 'LIVE',
				wentLiveAt: event.wentLiveAt,
				endedAt: null
			};
		case 'ended':
			return {
				classId: event.classId,
				status: 'ENDED',
				wentLiveAt: event.wentLiveAt,
				endedAt: event.endedAt
			};
		case 'cancelled':
			return { classId: event.classId, status: 'CANCELLED', wentLiveAt: null, endedAt: null };
		default:
			return null;
	}
}

const state = (socket: MediaSocket) => socket.data as SocketState;

function mayTake(role: LiveRole, access: ClassAccess): boolean {
	if (role === 'publisher') return may.present(access);
	if (role === 'interpreter') return may.interpret(access);
	return may.watchLive(access);
}

/**
 * Live-class signaling: authenticates with the session cookie, asks the
 * class access function who may publish and who may watch, validates every
 * message, and relays media requests to the class's SFU room (peer id =
 * socket id). Keeps each connection within its limits: one join at a time, a
 * few connections per user and class, media only while the class is live or
 * about to be, and whatever the room allows per peer.
 */
export function registerMediaNamespace(io: Server, deps: MediaDeps): MediaNamespace {
	const nsp: MediaNamespace = io.of(MEDIA_NAMESPACE);
	const now = deps.now ?? (() => new Date());
	const maxSockets = deps.maxSocketsPerUserAndClass ?? 3;
	/** Rooms whose events reach this process's sockets, by class. */
	const rooms = new Map<string, MediaRoom>();

	function wire(room: MediaRoom): MediaRoom {
		if (rooms.get(room.classId) === room) return room;
		rooms.set(room.classId, room);
		room.once('closed', () => {
			if (rooms.get(room.classId) === room) rooms.delete(room.classId);
		});
		const target = nsp.local.to(classRoomName(room.classId));
		room.on('producer', (e) =>
			target.emit('live:producer', { type: e.type, producer: summary(e.producer) })
		);
		room.on('consumer', (e) =>
			nsp.local.to(e.peerId).emit('live:consumer', {
				type: e.type,
				consumerId: e.consumerId,
				producerId: e.producerId
			})
		);
		room.on('rebuilt', (e) => {
			for (const peerId of e.peerIds) nsp.local.to(peerId).emit('live:rebuilt', {});
		});
		// The room counts the class's viewers on every app process that relays to it.
		room.on('viewers', (count) => {
			noteWebRtcViewers(room.classId, count);
			// Only the studios show it; sending it to every viewer on every join is quadratic in a rush.
			nsp.local.to(presentersRoomName(room.classId)).emit('live:viewers', { count });
		});
		// One studio (and one interpreter studio) per class: a newer tab, on
		// any process, replaced this one.
		room.on('replaced', (peerId) => {
			const other = nsp.sockets.get(peerId);
			if (!other) return;
			leave(other);
			other.emit('live:replaced', {});
			other.disconnect(true);
		});
		return room;
	}

	const viewerCount = (classId: string) => rooms.get(classId)?.viewerCount ?? 0;

	/** Attendance is recorded from these: a viewer's connection in or out of the SFU room. */
	function presence(
		type: 'joined' | 'left',
		joined: Pick<Joined, 'classId' | 'userId'>,
		id: string
	) {
		const event = { type, ...joined, connectionId: id, at: now().toISOString() };
		void deps.events.publish('live.presence', event);
	}

	/** Takes the socket out of its class: SFU peer, socket.io room, viewer count. */
	function leave(socket: MediaSocket) {
		const joined = state(socket).live;
		if (!joined) return;
		state(socket).live = undefined;
		void socket.leave(classRoomName(joined.classId));
		void socket.leave(presentersRoomName(joined.classId));
		if (joined.room && !joined.room.closed) joined.room.leave(socket.id);
		if ((joined.room && joined.role === 'viewer') || joined.hls)
			presence('left', joined, socket.id);
	}

	function connectionsOf(userId: string, classId: string, except: string): number {
		let count = 0;
		for (const other of localSocketsIn(nsp, userRoom(userId))) {
			if (other.id !== except && state(other).live?.classId === classId) count++;
		}
		return count;
	}

	async function join(
		socket: MediaSocket,
		request: JoinRequest,
		recheck = true
	): Promise<JoinReply | null> {
		const { classId, role, rtpCapabilities, hls } = request;
		if (hls && role !== 'viewer') return fail('invalid');
		const user = socketUser(socket);
		// The second look (below) decides from the database itself.
		const facts = recheck ? deps.accessFacts : deps.accessFacts.fresh;
		const access = await classAccess(facts, user, classId);
		if (!access) return fail('not_found');
		const open = access.status === 'SCHEDULED' || access.status === 'LIVE';
		let waiting: JoinWaiting | undefined;
		if (role !== 'viewer') {
			if (!mayTake(role, access)) return fail(open ? 'forbidden' : 'bad_state');
		} else if (!may.watchLive(access)) {
			// A waitlisted registrant waits on the page for a seat; over classes say so.
			if (access.level === 'readonly' && open) waiting = 'seat';
			else if (!open && access.level !== 'none') {
				leave(socket);
				return { ok: true, status: access.status, viewerCount: 0, producers: [] };
			} else return fail('forbidden');
		} else if (!liveMediaOpen(access, now())) waiting = 'opening';
		if (role === 'viewer' && connectionsOf(user.id, classId, socket.id) >= maxSockets) {
			return fail('too_many_connections');
		}
		if (!open) return fail('bad_state');
		// Past the class's WebRTC capacity, a new viewer watches over HLS. The
		// room counts the viewers of every process.
		if (role === 'viewer' && !waiting && !hls) {
			const media = await deps.media();
			const room = wire(await media.getOrCreateRoom(classId));
			const mine = state(socket).live;
			const rejoining = mine?.room === room && mine.role === 'viewer';
			if (await mustOverflow(media, classId, room.viewerCount - (rejoining ? 1 : 0))) {
				return fail('overflow');
			}
		}
		leave(socket);
		await socket.join(classRoomName(classId));
		if (waiting) {
			state(socket).live = { classId, role, userId: user.id, room: null, waiting };
			// A go-live or a seat that came between the check above and joining the
			// room reached neither this socket nor its reply: look once more, past
			// the cache, which may still hold what was true before.
			const current = recheck ? await classAccess(deps.accessFacts.fresh, user, classId) : access;
			if (current?.status !== access.status || current?.level !== access.level) {
				return join(socket, request, false);
			}
			return {
				ok: true,
				status: access.status,
				viewerCount: viewerCount(classId),
				producers: [],
				waiting
			};
		}
		if (hls) {
			// Counted as present, and told of the class's status; the picture comes over HTTP.
			state(socket).live = { classId, role, userId: user.id, room: null, hls: true };
			presence('joined', { classId, userId: user.id }, socket.id);
			return { ok: true, status: access.status, viewerCount: viewerCount(classId), producers: [] };
		}
		const room = wire(await (await deps.media()).getOrCreateRoom(classId));
		if (!socket.connected) return null;
		if (role !== 'viewer') await socket.join(presentersRoomName(classId));
		room.join(socket.id, role);
		state(socket).live = { classId, role, userId: user.id, room };
		if (role === 'viewer') presence('joined', { classId, userId: user.id }, socket.id);
		// Each saves the client a round trip before it can consume.
		const [routerRtpCapabilities, recvTransport] = await Promise.all([
			room.request(socket.id, 'getRouterRtpCapabilities', {}),
			request.recvTransport
				? room.request(socket.id, 'createWebRtcTransport', { direction: 'recv' })
				: undefined
		]);
		// Server-side consume, as mediasoup-demo does: paused consumers of what
		// the class has now, so the client consumes without asking. One it
		// cannot take is left out; the client asks for it the usual way.
		const consumers: JoinConsumer[] = [];
		if (recvTransport && rtpCapabilities && role === 'viewer') {
			const made = await Promise.allSettled(
				room.listProducers().map((p) =>
					room.request(socket.id, 'consume', {
						transportId: recvTransport.id,
						producerId: p.id,
						rtpCapabilities: rtpCapabilities as never
					})
				)
			);
			for (const m of made) {
				if (m.status === 'fulfilled') {
					const { id, producerId, kind, rtpParameters } = m.value;
					consumers.push({ id, producerId, kind, rtpParameters });
				}
			}
		}
		// A join that completes after its connection closed undoes itself.
		if (!socket.connected) {
			leave(socket);
			return null;
		}
		return {
			ok: true,
			status: access.status,
			viewerCount: viewerCount(classId),
			producers: room.listProducers().map(summary),
			routerRtpCapabilities,
			recvTransport,
			...(consumers.length > 0 ? { consumers } : {})
		};
	}

	/**
	 * Brings one socket in line with its user's access after a change: a
	 * socket that lost its right leaves the class at once; either way the
	 * client is told and joins again to learn what it may do now.
	 */
	async function refresh(socket: MediaSocket, classId: string | null): Promise<void> {
		const joined = state(socket).live;
		if (!joined || (classId !== null && joined.classId !== classId)) return;
		const access = await classAccess(deps.accessFacts, socketUser(socket), joined.classId);
		const allowed = access !== null && mayTake(joined.role, access);
		const had = joined.waiting !== 'seat';
		if (allowed === had) return;
		if (!allowed) leave(socket);
		socket.emit('live:access', { classId: joined.classId });
	}

	deps.sessions.protect(nsp as unknown as Namespace, (socket, classId) =>
		refresh(socket as MediaSocket, classId)
	);

	deps.events.on('class.lifecycle', 'every-process', async (event) => {
		const status = statusEvent(event);
		if (!status) return;
		const tell = () => nsp.local.to(classRoomName(event.classId)).emit('live:status', status);
		if (event.type === 'ended') {
			// The recorders stop while the publishers still send, so FFmpeg ends
			// its files at the next packet. Told first, the publishers stop, and
			// FFmpeg, waiting for a packet that never comes, is cut off with its
			// last second unwritten (the interpreter's replay lacked its end).
			// Without a media server (its workers failed to start) there is no
			// room or recorder to wait for, and the class is told at once.
			const media = await deps.media().catch(() => undefined);
			if (media) await media.closeRoom(event.classId, tell);
			else tell();
			return;
		}
		tell();
		// A cancellation reaches the class at once; its recording stops after.
		if (event.type === 'cancelled') await (await deps.media()).closeRoom(event.classId);
	});

	nsp.on('connection', (socket) => {
		const user = socketUser(socket);

		socket.on('live:join', async (payload: unknown, ack: unknown) => {
			if (typeof ack !== 'function') return;
			const parsed = joinSchema.safeParse(payload);
			if (!parsed.success) return ack(fail('invalid'));
			const s = state(socket);
			if (s.joining) return ack(fail('busy'));
			s.joining = true;
			try {
				const reply = await join(socket, parsed.data);
				if (reply) ack(reply);
			} catch (err) {
				if (err instanceof MediaLimitError) return ack(fail('limit', err.message));
				console.error('live:join failed', err);
				ack(fail('server'));
			} finally {
				s.joining = false;
			}
		});

		socket.on('live:media', async (payload: unknown, ack: unknown) => {
			if (typeof ack !== 'function') return;
			const me = state(socket).live;
			if (!me?.room) return ack(fail('not_joined'));
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
				if (me.room.closed) return ack(fail('bad_state'));
				// The room validates `data` against the method's own schema.
				ack({ ok: true, data: await me.room.request(socket.id, method, data as never) });
			} catch (err) {
				if (err instanceof MediaLimitError) return ack(fail('limit', err.message));
				if (err instanceof MediaRequestError) return ack(fail('media', err.message));
				console.error('live:media failed', method, err);
				ack(fail('server'));
			}
		});

		const transition =
			(run: (classId: string) => Promise<TransitionResult>) =>
			async (payload: unknown, ack: unknown) => {
				if (typeof ack !== 'function') return;
				const reply = ack as (r: StatusReply) => void;
				if (!emptySchema.safeParse(payload).success) return reply(fail('invalid'));
				const me = state(socket).live;
				if (!me?.room) return reply(fail('not_joined'));
				if (me.role !== 'publisher') return reply(fail('forbidden'));
				try {
					const result = await run(me.classId);
					if (!result.ok) return reply(fail(result.reason));
					reply({ ok: true, status: result.status });
				} catch (err) {
					console.error('live status change failed', err);
					reply(fail('server'));
				}
			};
		socket.on(
			'live:go',
			transition((classId) => deps.lifecycle.goLive(classId, user))
		);
		socket.on(
			'live:end',
			transition((classId) => deps.lifecycle.end(classId, user))
		);

		socket.on('live:stats', async (payload: unknown, ack: unknown) => {
			if (typeof ack !== 'function') return;
			if (!emptySchema.safeParse(payload).success) return ack(fail('invalid'));
			const me = state(socket).live;
			if (!me?.room) return ack(fail('not_joined'));
			if (me.role === 'viewer') return ack(fail('forbidden'));
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
