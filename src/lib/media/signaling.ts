import { io, type Socket } from 'socket.io-client';
import { reconnectWhenCut } from '../realtime/reconnect.ts';
import type {
	ConsumerEvent,
	JoinReply,
	JoinRequest,
	LiveErrorCode,
	LiveRole,
	LiveStatusEvent,
	MediaClientEvents,
	MediaServerEvents,
	ProducerEvent,
	PublisherQuality,
	StatusReply
} from './protocol.ts';
import { MEDIA_NAMESPACE } from './wire-constants.ts';

const REQUEST_TIMEOUT_MS = 10_000;

/** A refused or failed signaling request; `code` maps to a `live_error_*` message. */
export class LiveRequestError extends Error {
	override name = 'LiveRequestError';
	readonly code: LiveErrorCode | 'timeout';
	constructor(code: LiveErrorCode | 'timeout', message?: string) {
		super(message ?? code);
		this.code = code;
	}
}

export type JoinState = Extract<JoinReply, { ok: true }>;

export interface SignalingEvents {
	status: (e: LiveStatusEvent) => void;
	viewers: (e: { count: number }) => void;
	producer: (e: ProducerEvent) => void;
	consumer: (e: ConsumerEvent) => void;
	rebuilt: () => void;
	/** Socket (re)connected after a drop; the role must join again. */
	reconnected: () => void;
	disconnected: () => void;
	/** Another studio tab took over this class. */
	replaced: () => void;
	/** The server no longer accepts this session (signed out elsewhere, disabled). */
	refused: () => void;
	/** What I may do in the class changed (a seat came free, access withdrawn): join again. */
	access: () => void;
}

/**
 * The browser end of the '/media' namespace: one socket per page, joined to
 * one class in one role. The session cookie authenticates the handshake.
 */
export class Signaling {
	readonly socket: Socket<MediaServerEvents, MediaClientEvents>;
	readonly classId: string;
	readonly role: LiveRole;
	#handlers: { [K in keyof SignalingEvents]?: Set<SignalingEvents[K]> } = {};
	#everConnected = false;
	#replaced = false;
	#stopReconnecting: () => void;

	constructor(classId: string, role: LiveRole, url?: string) {
		this.classId = classId;
		this.role = role;
		// Quick, steady retries: a restarted server is back within seconds and
		// viewers are waiting; at most about a second passes between its return
		// and the next attempt.
		const opts = {
			transports: ['websocket'],
			withCredentials: true,
			reconnectionDelay: 300,
			reconnectionDelayMax: 1000,
			randomizationFactor: 0.3
		};
		this.socket = url ? io(url + MEDIA_NAMESPACE, opts) : io(MEDIA_NAMESPACE, opts);
		this.socket.on('connect', () => {
			if (this.#everConnected) this.#emit('reconnected');
			this.#everConnected = true;
		});
		this.socket.on('disconnect', () => this.#emit('disconnected'));
		// A studio tab that another one replaced stays away.
		this.#stopReconnecting = reconnectWhenCut(this.socket, () => !this.#replaced);
		this.socket.on('connect_error', (err) => {
			if (err.message === 'unauthorized') this.#emit('refused');
		});
		this.socket.on('live:status', (e: LiveStatusEvent) => this.#emit('status', e));
		this.socket.on('live:viewers', (e: { count: number }) => this.#emit('viewers', e));
		this.socket.on('live:producer', (e: ProducerEvent) => this.#emit('producer', e));
		this.socket.on('live:consumer', (e: ConsumerEvent) => this.#emit('consumer', e));
		this.socket.on('live:rebuilt', () => this.#emit('rebuilt'));
		this.socket.on('live:access', (e) => {
			if (e.classId === this.classId) this.#emit('access');
		});
		this.socket.on('live:replaced', () => {
			this.#replaced = true;
			this.#emit('replaced');
		});
	}

	on<K extends keyof SignalingEvents>(event: K, handler: SignalingEvents[K]): () => void {
		const handlers = this.#handlers as Record<string, Set<SignalingEvents[K]> | undefined>;
		const set = (handlers[event] ??= new Set());
		set.add(handler);
		return () => set.delete(handler);
	}

	#emit<K extends keyof SignalingEvents>(event: K, ...args: Parameters<SignalingEvents[K]>) {
		for (const handler of this.#handlers[event] ?? []) {
			(handler as (...a: Parameters<SignalingEvents[K]>) => void)(...args);
		}
	}

	/** Resolves once the socket is connected (rejects on a refused handshake). */
	connected(): Promise<void> {
		if (this.socket.connected) return Promise.resolve();
		return new Promise((resolve, reject) => {
			const ok = () => {
				this.socket.off('connect_error', bad);
				resolve();
			};
			const bad = (err: Error) => {
				if (err.message !== 'unauthorized') return; // transient: socket.io retries
				this.socket.off('connect', ok);
				reject(new LiveRequestError('forbidden', err.message));
			};
			this.socket.once('connect', ok);
			this.socket.on('connect_error', bad);
		});
	}

	/** One acknowledged request; no answer in time is a 'timeout'. */
	async #ack<T>(send: (socket: ReturnType<Signaling['socket']['timeout']>) => Promise<T>) {
		await this.connected();
		try {
			return await send(this.socket.timeout(REQUEST_TIMEOUT_MS));
		} catch {
			throw new LiveRequestError('timeout');
		}
	}

	async join(options: Omit<JoinRequest, 'classId' | 'role'> = {}): Promise<JoinState> {
		const reply = await this.#ack((s) =>
			s.emitWithAck('live:join', { classId: this.classId, role: this.role, ...options })
		);
		if (!reply.ok) throw new LiveRequestError(reply.error, reply.message);
		return reply;
	}

	/** Relay one mediasoup request (see media-server's ClassRoom.request). */
	async request<T = unknown>(method: string, data: Record<string, unknown> = {}): Promise<T> {
		const reply = await this.#ack((s) => s.emitWithAck('live:media', { method, data }));
		if (!reply.ok) throw new LiveRequestError(reply.error, reply.message);
		return reply.data as T;
	}

	async goLive(): Promise<StatusReply> {
		return this.#ack((s) => s.emitWithAck('live:go', {}));
	}

	async end(): Promise<StatusReply> {
		return this.#ack((s) => s.emitWithAck('live:end', {}));
	}

	async quality(): Promise<PublisherQuality> {
		const reply = await this.#ack((s) => s.emitWithAck('live:stats', {}));
		if (!reply.ok) throw new LiveRequestError(reply.error, reply.message);
		return reply.quality;
	}

	close() {
		this.#handlers = {};
		this.#stopReconnecting();
		this.socket.disconnect();
	}
}
