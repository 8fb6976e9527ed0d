import type { Namespace, Server, Socket } from 'socket.io';
import type { Db } from '../db/client.ts';
import { sessionSocketAuth, socketUser } from '../realtime/socket-auth.ts';
import {
	QA_NAMESPACE,
	actionSchema,
	joinSchema,
	type ActionReply,
	type JoinReply,
	type QaEvent,
	type QuestionView
} from '../../qa/protocol.ts';
import type { RateLimiterFactory } from './rate-limit.ts';
import {
	QaError,
	QaService,
	resolveAccess,
	viewFor,
	type QaAccess,
	type QaChange,
	type QaLimits
} from './service.ts';

export type QaDeps = {
	getDb: () => Promise<Db>;
	sessionDays: number;
	limits?: Partial<QaLimits>;
	clock?: () => number;
	/** Where rate limits count; process memory unless the deployment shares Redis. */
	rateLimiters?: RateLimiterFactory;
};

/** Rooms: moderators and everyone else get different views of the same change. */
export const rooms = {
	staff: (classId: string) => `qa:${classId}:staff`,
	viewers: (classId: string) => `qa:${classId}:viewers`,
	user: (classId: string, userId: string) => `qa:${classId}:user:${userId}`
};

const REGISTERED = Symbol.for('taxpayer-classroom.qa-registered');

type Ack<T> = ((reply: T) => void) | undefined;

function errorKey(err: unknown): { error: string; params?: Record<string, string | number> } {
	if (err instanceof QaError) return { error: err.key, params: err.params };
	console.error('qa action failed', err);
	return { error: 'qa_error_server' };
}

/** Broadcast a committed change: full views to staff, public views to the rest. */
export function publishChange(nsp: Namespace, change: QaChange) {
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
 * Every change is committed before it is broadcast as 'qa:event'.
 */
export function registerQaNamespace(io: Server, deps: QaDeps): Namespace {
	const nsp = io.of(QA_NAMESPACE);
	// hooks' init can run again in dev (module reload) on the same io server.
	const registered = nsp as Namespace & { [REGISTERED]?: boolean };
	if (registered[REGISTERED]) return nsp;
	registered[REGISTERED] = true;
	let service: QaService | undefined;
	const getService = async () =>
		(service ??= new QaService(await deps.getDb(), deps.limits, deps.clock, deps.rateLimiters));

	nsp.use(sessionSocketAuth(deps));

	async function join(socket: Socket, classId: string): Promise<QaAccess | null> {
		const joined = socket.data.qa as Map<string, QaAccess>;
		const known = joined.get(classId);
		if (known) return known;
		const access = await resolveAccess((await getService()).db, socketUser(socket), classId);
		if (!access) return null;
		joined.set(classId, access);
		// Join the rooms before reading any state, so nothing committed later is missed.
		await socket.join([
			access.role === 'moderator' ? rooms.staff(classId) : rooms.viewers(classId),
			rooms.user(classId, access.user.id)
		]);
		return access;
	}

	nsp.on('connection', (socket) => {
		socket.data.qa = new Map<string, QaAccess>();

		socket.on('qa:join', async (payload: unknown, ack: Ack<JoinReply>) => {
			if (typeof ack !== 'function') return;
			const parsed = joinSchema.safeParse(payload);
			if (!parsed.success) return ack({ ok: false, error: 'qa_error_invalid' });
			try {
				const access = await join(socket, parsed.data.classId);
				if (!access) return ack({ ok: false, error: 'qa_error_not_participant' });
				const snap = await (await getService()).snapshot(access, parsed.data.lastSeq);
				ack({
					ok: true,
					classId: access.classId,
					role: access.role,
					userId: access.user.id,
					...snap
				});
			} catch (err) {
				ack({ ok: false, ...errorKey(err) });
			}
		});

		socket.on('qa:action', async (payload: unknown, ack: Ack<ActionReply>) => {
			const reply = (r: ActionReply) => (typeof ack === 'function' ? ack(r) : undefined);
			const parsed = actionSchema.safeParse(payload);
			if (!parsed.success) return reply({ ok: false, error: 'qa_error_invalid' });
			try {
				// A client whose actions were buffered across a reconnect may act before re-joining.
				const access = await join(socket, parsed.data.classId);
				if (!access) return reply({ ok: false, error: 'qa_error_not_participant' });
				const change = await (
					await getService()
				).apply(access, parsed.data, (c) => publishChange(nsp, c));
				const q = change.questions.find(
					(row) => 'questionId' in parsed.data && row.id === parsed.data.questionId
				);
				const own = change.questions.length === 1 ? change.questions[0] : q;
				reply({
					ok: true,
					seq: change.seq,
					question: own
						? (viewFor(own, { role: access.role, userId: access.user.id }, true) ?? undefined)
						: undefined
				});
			} catch (err) {
				reply({ ok: false, ...errorKey(err) });
			}
		});
	});
	return nsp;
}
