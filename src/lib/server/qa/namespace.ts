import type { Namespace, Server, Socket } from 'socket.io';
import type { AccessFactsSource } from '../class-access.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events.ts';
import type { Metrics } from '../metrics.ts';
import { socketUser, type SocketSessions } from '../realtime/socket-sessions.ts';
import type { Throttles } from '../throttle.ts';
import {
	QA_NAMESPACE,
	actionSchema,
	joinSchema,
	type ActionReply,
	type JoinReply,
	type QaClientEvents,
	type QaEvent,
	type QaServerEvents,
	type QuestionView
} from '../../qa/protocol.ts';
import {
	QaError,
	QaService,
	resolveAccess,
	type QaAccess,
	type QaChange,
	type QaLimits
} from './service.ts';
import { viewFor } from './views.ts';

export type QaDeps = {
	db: Db;
	/** Where access is decided from (a cache in front of the database, in the app). */
	accessFacts: AccessFactsSource;
	events: EventBus;
	sessions: SocketSessions;
	/** Joins, questions and votes per user (in Redis when the deployment shares one). */
	throttles: Pick<Throttles, 'qaJoin' | 'qaQuestion' | 'qaVote'>;
	limits?: Partial<QaLimits>;
	clock?: () => number;
	/** Counts each action answered (the app's Prometheus metrics). */
	metrics?: Pick<Metrics, 'qaAction'>;
};

type QaNamespace = Namespace<QaClientEvents, QaServerEvents>;
type QaSocket = Socket<QaClientEvents, QaServerEvents>;

/** Rooms: moderators and everyone else get different views of the same change. */
export const rooms = {
	staff: (classId: string) => `qa:${classId}:staff`,
	viewers: (classId: string) => `qa:${classId}:viewers`,
	user: (classId: string, userId: string) => `qa:${classId}:user:${userId}`
};

function errorKey(err: unknown): { error: string; params?: Record<string, string | number> } {
	if (err instanceof QaError) return { error: err.key, params: err.params };
	console.error('qa action failed', err);
	return { error: 'qa_error_server' };
}

/** Broadcast a committed change: full views to staff, public views to the rest. */
export function publishChange(nsp: QaNamespace, change: QaChange) {
	const { classId, seq } = change;
	const base = change.settingsChanged ? { preModeration: change.preModeration } : {};
	const staffEvent: QaEvent = {
		classId,
		seq,
		...base,
		questions: change.questions.map((q) => viewFor(q, { role: 'moderator', userId: '' }, true)!)
	};
	nsp.to(rooms.staff(classId)).emit('qa:event', staffEvent);

	const publicQuestions: QuestionView[] = [];
	for (const q of change.questions) {
		if (q.status === 'PENDING') {
			// Only the author (and staff) learn of a question waiting for approval.
			const own = viewFor(q, { role: 'participant', userId: q.authorId }, true)!;
			nsp
				.to(rooms.user(classId, q.authorId))
				.except(rooms.staff(classId))
				.emit('qa:event', { classId, seq, questions: [own] } satisfies QaEvent);
		} else {
			publicQuestions.push(viewFor(q, { role: 'participant', userId: '' }, true)!);
		}
	}
	if (publicQuestions.length || change.settingsChanged) {
		nsp
			.to(rooms.viewers(classId))
			.emit('qa:event', { classId, seq, ...base, questions: publicQuestions } satisfies QaEvent);
	}
}

/**
 * The live Q&A namespace. Clients authenticate with the session cookie, join a
 * class ('qa:join', with their last seq on reconnect) and send 'qa:action'.
 * Every change is committed before it is broadcast as 'qa:event'. When a
 * user's access changes, their joined sockets leave the class and are told
 * ('qa:access'); the client joins again and gets its new role and snapshot.
 */
export function registerQaNamespace(io: Server, deps: QaDeps): QaNamespace {
	const nsp: QaNamespace = io.of(QA_NAMESPACE);
	const service = new QaService(
		deps.db,
		deps.throttles,
		(change) => publishChange(nsp, change),
		deps.limits,
		deps.clock
	);
	const joinedOf = (socket: QaSocket) => socket.data.qa as Map<string, QaAccess>;

	async function join(socket: QaSocket, classId: string): Promise<QaAccess | null> {
		const joined = joinedOf(socket);
		const known = joined.get(classId);
		if (known) return known;
		const access = await resolveAccess(deps.accessFacts, socketUser(socket), classId);
		if (!access) return null;
		joined.set(classId, access);
		// Join the rooms before reading any state, so nothing committed later is missed.
		await socket.join(roomsOf(access));
		return access;
	}

	function roomsOf(access: QaAccess): string[] {
		return [
			access.role === 'moderator' ? rooms.staff(access.classId) : rooms.viewers(access.classId),
			rooms.user(access.classId, access.user.id)
		];
	}

	/** Drop what the socket knew of its access in the class and tell the client to ask again. */
	function forget(socket: QaSocket, classId: string) {
		const access = joinedOf(socket).get(classId);
		if (!access) return;
		joinedOf(socket).delete(classId);
		for (const room of roomsOf(access)) void socket.leave(room);
		socket.emit('qa:access', { classId });
	}

	deps.sessions.protect(nsp as unknown as Namespace, async (socket, classId) => {
		const qaSocket = socket as QaSocket;
		for (const joined of [...joinedOf(qaSocket).keys()]) {
			if (classId === null || joined === classId) forget(qaSocket, joined);
		}
	});

	// Cancelling or ending a class changes what everyone in it may do.
	deps.events.on('class.lifecycle', 'every-process', (event) => {
		if (event.type !== 'cancelled' && event.type !== 'ended') return;
		const classRooms = [rooms.staff(event.classId), rooms.viewers(event.classId)];
		for (const socket of nsp.sockets.values()) {
			if (classRooms.some((room) => socket.rooms.has(room))) forget(socket, event.classId);
		}
	});

	nsp.on('connection', (socket) => {
		socket.data.qa = new Map<string, QaAccess>();
		const user = socketUser(socket);

		socket.on('qa:join', async (payload: unknown, ack: unknown) => {
			if (typeof ack !== 'function') return;
			const reply = ack as (r: JoinReply) => void;
			const parsed = joinSchema.safeParse(payload);
			if (!parsed.success) return reply({ ok: false, error: 'qa_error_invalid' });
			try {
				const wait = await deps.throttles.qaJoin.take(user.id);
				if (wait) {
					return reply({
						ok: false,
						error: 'qa_error_rate_joins',
						params: { seconds: Math.ceil(wait / 1000) }
					});
				}
				const access = await join(socket, parsed.data.classId);
				if (!access) return reply({ ok: false, error: 'qa_error_not_participant' });
				const snap = await service.snapshot(access, parsed.data.lastSeq);
				reply({
					ok: true,
					classId: access.classId,
					role: access.role,
					userId: access.user.id,
					...snap
				});
			} catch (err) {
				reply({ ok: false, ...errorKey(err) });
			}
		});

		socket.on('qa:action', async (payload: unknown, ack: unknown) => {
			const parsed = actionSchema.safeParse(payload);
			const reply = (r: ActionReply) => {
				if (parsed.success) deps.metrics?.qaAction(parsed.data.type, r.ok ? 'ok' : 'refused');
				if (typeof ack === 'function') (ack as (r: ActionReply) => void)(r);
			};
			if (!parsed.success) return reply({ ok: false, error: 'qa_error_invalid' });
			try {
				// A client whose actions were buffered across a reconnect may act before re-joining.
				const access = await join(socket, parsed.data.classId);
				if (!access) return reply({ ok: false, error: 'qa_error_not_participant' });
				const { change, question } = await service.apply(access, parsed.data);
				reply({
					ok: true,
					seq: change.seq,
					question: question
						? (viewFor(question, { role: access.role, userId: access.user.id }, true) ?? undefined)
						: undefined
				});
			} catch (err) {
				reply({ ok: false, ...errorKey(err) });
			}
		});
	});
	return nsp;
}
