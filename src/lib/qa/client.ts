import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { reconnectWhenCut } from '../realtime/reconnect.ts';
import type {
	ActionReply,
	JoinReply,
	QaAction,
	QaClientEvents,
	QaEvent,
	QaServerEvents,
	QaRole,
	QuestionView
} from './protocol.ts';
import { QA_NAMESPACE } from './wire-constants.ts';

export type QaState = {
	connected: boolean;
	joined: boolean;
	/** Error key when joining was refused (not a participant, signed out...). */
	joinError: string | null;
	role: QaRole | null;
	userId: string | null;
	preModeration: boolean;
	lastSeq: number | null;
	questions: Map<string, QuestionView>;
	myVotes: Set<string>;
	myQuestions: Set<string>;
};

export type QaClientOptions = {
	/** Origin of the app; defaults to the page's own. */
	url?: string;
	classId: string;
	socketOptions?: Partial<ManagerOptions & SocketOptions>;
	ackTimeoutMs?: number;
};

type Listener = (state: QaState, fresh: QuestionView[]) => void;

/**
 * Browser (and Node) client of the live Q&A namespace. It joins the class on
 * every (re)connect, sending the last seq it saw so the server replies with only
 * what changed meanwhile. Snapshots are applied by question version, so a late,
 * repeated or out-of-order delivery never rolls a question back or duplicates it.
 */
export class QaClient {
	readonly socket: Socket<QaServerEvents, QaClientEvents>;
	readonly state: QaState = {
		connected: false,
		joined: false,
		joinError: null,
		role: null,
		userId: null,
		preModeration: false,
		lastSeq: null,
		questions: new Map(),
		myVotes: new Set(),
		myQuestions: new Set()
	};
	private readonly listeners = new Set<Listener>();
	private readonly ackTimeoutMs: number;
	private firstJoin: Promise<JoinReply>;
	private resolveFirstJoin!: (reply: JoinReply) => void;
	private readonly stopReconnecting: () => void;

	constructor(readonly options: QaClientOptions) {
		this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
		this.firstJoin = new Promise((resolve) => (this.resolveFirstJoin = resolve));
		const target = (options.url ?? '') + QA_NAMESPACE;
		this.socket = io(target, {
			transports: ['websocket'],
			withCredentials: true,
			...options.socketOptions
		});
		this.socket.on('connect', () => {
			this.state.connected = true;
			this.notify([]);
			void this.join();
		});
		this.socket.on('disconnect', () => {
			this.state.connected = false;
			this.state.joined = false;
			this.notify([]);
		});
		// Rejoining is where a lost registration or session shows.
		this.stopReconnecting = reconnectWhenCut(this.socket);
		this.socket.on('connect_error', (err) => {
			if (err.message === 'unauthorized') {
				this.state.joinError = 'qa_error_unauthorized';
				this.resolveFirstJoin({ ok: false, error: 'qa_error_unauthorized' });
				this.notify([]);
			}
		});
		this.socket.on('qa:event', (event: QaEvent) => {
			if (event.classId !== options.classId) return;
			this.applyEvent(event);
		});
		// My role changed (a seat came free, the class was cancelled...): a full
		// snapshot for the new role replaces what the old one showed.
		this.socket.on('qa:access', ({ classId }) => {
			if (classId !== options.classId) return;
			this.state.joined = false;
			this.state.lastSeq = null;
			void this.join();
		});
	}

	/** Resolves with the first join reply (ok or refused). */
	ready(): Promise<JoinReply> {
		return this.firstJoin;
	}

	subscribe(listener: Listener): () => void {
		this.listeners.add(listener);
		listener(this.state, []);
		return () => this.listeners.delete(listener);
	}

	private notify(fresh: QuestionView[]) {
		for (const l of this.listeners) l(this.state, fresh);
	}

	private async join() {
		let reply: JoinReply;
		try {
			reply = await this.socket
				.timeout(this.ackTimeoutMs)
				.emitWithAck('qa:join', { classId: this.options.classId, lastSeq: this.state.lastSeq });
		} catch {
			// No reply in time: the next reconnect tries again.
			return;
		}
		if (!reply.ok) {
			this.state.joinError = reply.error;
			this.state.joined = false;
			this.state.role = null;
			this.resolveFirstJoin(reply);
			this.notify([]);
			return;
		}
		const s = this.state;
		s.joinError = null;
		s.joined = true;
		s.role = reply.role;
		s.userId = reply.userId;
		s.preModeration = reply.preModeration;
		s.myVotes = new Set(reply.myVotes);
		s.myQuestions = new Set(reply.myQuestions);
		if (reply.full) {
			// Drop what the snapshot no longer has, unless an event newer than it already arrived.
			const present = new Set(reply.questions.map((q) => q.id));
			for (const [id, q] of s.questions) {
				if (!present.has(id) && q.version <= reply.seq) s.questions.delete(id);
			}
		}
		const fresh = this.merge(reply.questions);
		s.lastSeq = Math.max(s.lastSeq ?? 0, reply.seq);
		this.resolveFirstJoin(reply);
		this.notify(fresh);
	}

	private applyEvent(event: QaEvent) {
		if (event.preModeration !== undefined) this.state.preModeration = event.preModeration;
		const fresh = this.merge(event.questions);
		// Until the first join reply, the seq watermark stays unset: the reply decides it.
		if (this.state.lastSeq !== null) this.state.lastSeq = Math.max(this.state.lastSeq, event.seq);
		this.notify(fresh);
	}

	/** Apply question snapshots newer than what we hold; returns the newly seen ones. */
	private merge(questions: QuestionView[]): QuestionView[] {
		const fresh: QuestionView[] = [];
		const map = this.state.questions;
		const isStaff = this.state.role === 'moderator';
		for (const q of questions) {
			const known = map.get(q.id);
			if (known && known.version >= q.version) continue;
			if (q.status === 'HIDDEN' && !isStaff) {
				map.delete(q.id);
				continue;
			}
			if (!known) fresh.push(q);
			map.set(q.id, q);
		}
		return fresh;
	}

	async action(action: QaAction): Promise<ActionReply> {
		let reply: ActionReply;
		try {
			reply = await this.socket.timeout(this.ackTimeoutMs).emitWithAck('qa:action', action);
		} catch {
			return { ok: false, error: 'qa_error_timeout' };
		}
		if (reply.ok) {
			if (action.type === 'vote') this.state.myVotes.add(action.questionId);
			if (reply.question) {
				if (action.type === 'ask') this.state.myQuestions.add(reply.question.id);
				this.notify(this.merge([reply.question]));
			}
		}
		return reply;
	}

	ask(text: string, anonymous = false) {
		return this.action({ type: 'ask', classId: this.options.classId, text, anonymous });
	}

	vote(questionId: string) {
		return this.action({ type: 'vote', classId: this.options.classId, questionId });
	}

	close() {
		this.listeners.clear();
		this.stopReconnecting();
		this.socket.disconnect();
	}
}

/** Newest first, or most votes first (ties: newer first). Pinned always leads. */
export function sortQuestions(
	questions: Iterable<QuestionView>,
	order: 'votes' | 'newest'
): QuestionView[] {
	return [...questions].sort((a, b) => {
		if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
		if (order === 'votes' && a.voteCount !== b.voteCount) return b.voteCount - a.voteCount;
		return b.createdAt.localeCompare(a.createdAt);
	});
}

/**
 * The staff queue: waiting for approval first, then unanswered (爱心通道 askers
 * first, then by votes, then oldest first), then answered, then hidden.
 */
export function staffQueue(questions: Iterable<QuestionView>): QuestionView[] {
	const rank = (q: QuestionView) => {
		if (q.status === 'HIDDEN') return 4;
		if (q.status === 'PENDING') return 0;
		if (q.answerText !== null || q.answeredLive) return 3;
		return q.staff?.priority ? 1 : 2;
	};
	return [...questions].sort((a, b) => {
		const r = rank(a) - rank(b);
		if (r) return r;
		if (a.voteCount !== b.voteCount) return b.voteCount - a.voteCount;
		return a.createdAt.localeCompare(b.createdAt);
	});
}
