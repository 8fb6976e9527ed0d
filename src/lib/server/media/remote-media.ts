import { EventEmitter } from 'node:events';
import { io, type Socket } from 'socket.io-client';
import {
	CONTROL_PATH,
	MediaLimitError,
	MediaRequestError,
	type ClassRecordingEvents,
	type ClassRoomEvents,
	type ClassRoomStats,
	type ControlClientEvents,
	type ControlMethod,
	type ControlRequest,
	type ControlResults,
	type ControlServerEvents,
	type MediaLoad,
	type MediaMethod,
	type MediaRecording,
	type MediaRequests,
	type MediaResponses,
	type MediaRoom,
	type MediaServerConfig,
	type MediaService,
	type PeerRole,
	type ProducerEvent,
	type ProducerInfo,
	type RecordingStopped,
	type ServerHello
} from '../../../../media-server/src/index.ts';

type ControlSocket = Socket<ControlServerEvents, ControlClientEvents>;

/** A media server that does not answer within this is treated as failing the request. */
const REQUEST_TIMEOUT_MS = 10_000;

export class MediaServerUnavailableError extends Error {
	override name = 'MediaServerUnavailableError';
}

/**
 * The app's side of the control protocol: a media server running as its own
 * service, presented as the MediaService the signaling and recording
 * lifecycle already use. Rooms are stand-ins kept current by the server's
 * events; peers' requests travel to the server as they are.
 */
export class RemoteMediaServer implements MediaService {
	readonly serverId: string;
	readonly config: MediaServerConfig;
	readonly routerRtpCapabilities: ServerHello['routerRtpCapabilities'];
	readonly #socket: ControlSocket;
	readonly #rooms = new Map<string, Promise<RemoteRoom>>();
	readonly #recordings = new Map<string, RemoteRecording>();
	readonly #beforeClose: ((classId: string) => Promise<unknown>)[] = [];

	private constructor(socket: ControlSocket, hello: ServerHello) {
		this.#socket = socket;
		this.serverId = hello.serverId;
		this.config = hello.config;
		this.routerRtpCapabilities = hello.routerRtpCapabilities;
		const room = (classId: string, use: (room: RemoteRoom) => void) =>
			void this.#rooms.get(classId)?.then(use, () => undefined);
		socket.on('room:producer', ({ classId, ...event }) => room(classId, (r) => r.producer(event)));
		socket.on('room:consumer', ({ classId, ...event }) =>
			room(classId, (r) => r.emit('consumer', event))
		);
		socket.on('room:rebuilt', (event) => room(event.classId, (r) => r.emit('rebuilt', event)));
		socket.on('room:viewers', ({ classId, count }) => room(classId, (r) => r.viewers(count)));
		socket.on('room:replaced', ({ classId, peerId }) => room(classId, (r) => r.replaced(peerId)));
		socket.on('room:closed', ({ classId }) => room(classId, (r) => r.markClosed()));
		socket.on('recording:playlist', ({ recordingId }) =>
			this.#recordings.get(recordingId)?.emit('playlist')
		);
		socket.on('recording:stopped', ({ recordingId, endedAt }) => {
			const recording = this.#recordings.get(recordingId);
			this.#recordings.delete(recordingId);
			recording?.emit('stopped', { endedAt });
		});
		// Back after a drop (the server restarted, or the network): the rooms
		// this process used are opened again and their peers rejoined, then
		// told to redo their transports, as after a worker died; its
		// recordings are asked for again, which continues one still running
		// and resumes, in the same folder, one the restart cut off.
		socket.io.on('reconnect', () => {
			for (const room of this.#rooms.values()) {
				void room.then(
					(r) => r.rejoin(),
					() => undefined
				);
			}
			for (const recording of this.#recordings.values()) void recording.resume();
		});
	}

	/** Connects and authenticates; rejects when the server refuses or cannot be reached. */
	static async connect(url: string, secret: string): Promise<RemoteMediaServer> {
		const socket: ControlSocket = io(url, {
			path: CONTROL_PATH,
			auth: { secret },
			transports: ['websocket'],
			// A media server restarted is back in a few seconds: notice soon after.
			reconnectionDelayMax: 2000
		});
		try {
			await new Promise<void>((resolve, reject) => {
				const timer = setTimeout(
					() => reject(new MediaServerUnavailableError(`no media server answers at ${url}`)),
					REQUEST_TIMEOUT_MS
				);
				socket.once('connect', () => (clearTimeout(timer), resolve()));
				socket.once('connect_error', (error) => {
					// Refused (a wrong secret) is final; anything else is retried until the timer.
					if (error.message !== 'unauthorized') return;
					clearTimeout(timer);
					reject(new MediaServerUnavailableError(`the media server at ${url} refused the secret`));
				});
			});
			const hello = await call(socket, 'server:hello', {});
			return new RemoteMediaServer(socket, hello);
		} catch (error) {
			socket.close();
			throw error;
		}
	}

	call<M extends ControlMethod>(method: M, payload: ControlRequest<M>): Promise<ControlResults[M]> {
		return call(this.#socket, method, payload);
	}

	getOrCreateRoom(classId: string): Promise<RemoteRoom> {
		let room = this.#rooms.get(classId);
		if (!room) {
			const opened = this.call('room:open', { classId }).then(
				(state) => new RemoteRoom(classId, this, state)
			);
			room = opened;
			this.#rooms.set(classId, opened);
			opened.then(
				(r) => r.once('closed', () => this.#forget(classId, opened)),
				() => this.#forget(classId, opened)
			);
		}
		return room;
	}

	#forget(classId: string, room: Promise<RemoteRoom>): void {
		if (this.#rooms.get(classId) === room) this.#rooms.delete(classId);
	}

	beforeRoomCloses(finish: (classId: string) => Promise<unknown>): void {
		this.#beforeClose.push(finish);
	}

	async closeRoom(classId: string, beforeClosing?: () => void): Promise<void> {
		await Promise.allSettled(this.#beforeClose.map((finish) => finish(classId)));
		beforeClosing?.();
		await this.call('room:close', { classId });
	}

	getLoad(): Promise<MediaLoad> {
		return this.call('server:load', {});
	}

	async record(
		classId: string,
		options: { recordingId: string; dir: string; resume: boolean }
	): Promise<MediaRecording> {
		const running = this.#recordings.get(options.recordingId);
		if (running) return running;
		const recording = new RemoteRecording(this, { classId, ...options });
		// Listening before asking: a short recording's events may come before the reply.
		this.#recordings.set(options.recordingId, recording);
		try {
			const { startedAt } = await this.call('recording:start', { classId, ...options });
			recording.startedAt = startedAt;
			return recording;
		} catch (error) {
			this.#recordings.delete(options.recordingId);
			throw error;
		}
	}

	async close(): Promise<void> {
		this.#socket.close();
		for (const room of this.#rooms.values())
			void room.then(
				(r) => r.markClosed(),
				() => undefined
			);
	}
}

async function call<M extends ControlMethod>(
	socket: ControlSocket,
	method: M,
	payload: ControlRequest<M>
): Promise<ControlResults[M]> {
	let reply;
	try {
		// socket.io types an event's arguments from the map; the payload is the method's own.
		reply = await (
			socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck as (
				event: M,
				payload: ControlRequest<M>
			) => Promise<Parameters<Parameters<ControlClientEvents[M]>[1]>[0]>
		)(method, payload);
	} catch {
		throw new MediaServerUnavailableError(`the media server did not answer ${method}`);
	}
	if (reply.ok) return reply.data as ControlResults[M];
	if (reply.error === 'limit') throw new MediaLimitError(reply.message);
	if (reply.error === 'request') throw new MediaRequestError(reply.message);
	throw new Error(`media server: ${method} failed (${reply.error}): ${reply.message}`);
}

/**
 * A class's room on the media server, as this process sees it: the producers
 * and the viewer count as its events last told, the peers this process
 * joined, and requests passed through.
 */
export class RemoteRoom extends EventEmitter<ClassRoomEvents> implements MediaRoom {
	readonly classId: string;
	readonly #server: RemoteMediaServer;
	readonly #producers = new Map<string, ProducerInfo>();
	/** Peers that joined through this process, with their roles. */
	readonly #peers = new Map<string, PeerRole>();
	/** Each peer's last join or leave on its way to the server. */
	readonly #pending = new Map<string, Promise<void>>();
	#viewerCount: number;
	#closed = false;

	constructor(
		classId: string,
		server: RemoteMediaServer,
		state: { producers: ProducerInfo[]; viewerCount: number }
	) {
		super();
		this.classId = classId;
		this.#server = server;
		for (const p of state.producers) this.#producers.set(p.id, p);
		this.#viewerCount = state.viewerCount;
	}

	get closed(): boolean {
		return this.#closed;
	}

	get viewerCount(): number {
		return this.#viewerCount;
	}

	/**
	 * Returns at once, as ClassRoom.join does; the peer's requests wait for
	 * the server to have the peer (its handlers run concurrently, so the
	 * order messages arrive in is not the order they finish in).
	 */
	join(peerId: string, role: PeerRole): void {
		this.#peers.set(peerId, role);
		this.#membership(peerId, () =>
			this.#server.call('room:join', { classId: this.classId, peerId, role })
		);
	}

	leave(peerId: string): void {
		if (!this.#peers.delete(peerId)) return;
		this.#membership(peerId, () =>
			this.#server.call('room:leave', { classId: this.classId, peerId })
		);
	}

	/** A peer's joins and leaves reach the server one after the other. */
	#membership(peerId: string, send: () => Promise<unknown>): void {
		const done = (this.#pending.get(peerId) ?? Promise.resolve())
			.then(async () => void (await send()))
			.catch((error: unknown) =>
				console.error('[media] control message failed', this.classId, String(error))
			);
		this.#pending.set(peerId, done);
		void done.then(() => {
			if (this.#pending.get(peerId) === done) this.#pending.delete(peerId);
		});
	}

	listProducers(): ProducerInfo[] {
		return [...this.#producers.values()];
	}

	async request<M extends MediaMethod>(
		peerId: string,
		method: M,
		data: MediaRequests[M]
	): Promise<MediaResponses[M]> {
		await this.#pending.get(peerId);
		return (await this.#server.call('room:request', {
			classId: this.classId,
			peerId,
			method,
			data: data as Record<string, unknown>
		})) as MediaResponses[M];
	}

	getStats(): Promise<ClassRoomStats> {
		return this.#server.call('room:stats', { classId: this.classId });
	}

	/** Server events, applied. */
	producer(event: ProducerEvent): void {
		if (event.type === 'closed') this.#producers.delete(event.producer.id);
		else this.#producers.set(event.producer.id, event.producer);
		this.emit('producer', event);
	}

	viewers(count: number): void {
		this.#viewerCount = count;
		this.emit('viewers', count);
	}

	replaced(peerId: string): void {
		if (this.#peers.delete(peerId)) this.emit('replaced', peerId);
	}

	markClosed(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.emit('closed');
	}

	/** After the control connection came back: the server may have lost this process's peers. */
	async rejoin(): Promise<void> {
		const state = await this.#server.call('room:open', { classId: this.classId });
		this.#producers.clear();
		for (const p of state.producers) this.#producers.set(p.id, p);
		this.viewers(state.viewerCount);
		const peerIds = [...this.#peers.keys()];
		await Promise.all(
			[...this.#peers].map(([peerId, role]) =>
				this.#server.call('room:join', { classId: this.classId, peerId, role })
			)
		);
		if (peerIds.length > 0) this.emit('rebuilt', { classId: this.classId, peerIds });
	}
}

/** A recording running on the media server; its events arrive through RemoteMediaServer. */
class RemoteRecording extends EventEmitter<ClassRecordingEvents> implements MediaRecording {
	readonly recordingId: string;
	startedAt = 0;
	readonly #server: RemoteMediaServer;
	readonly #where: { classId: string; dir: string };

	constructor(
		server: RemoteMediaServer,
		options: { classId: string; recordingId: string; dir: string }
	) {
		super();
		this.recordingId = options.recordingId;
		this.#server = server;
		this.#where = { classId: options.classId, dir: options.dir };
	}

	/** Asks the server for this recording again, after the control connection came back. */
	async resume(): Promise<void> {
		try {
			await this.#server.call('recording:start', {
				...this.#where,
				recordingId: this.recordingId,
				resume: true
			});
		} catch (error) {
			console.error('[recording] could not resume on the media server', this.recordingId, error);
		}
	}

	stop(): Promise<RecordingStopped> {
		return this.#server.call('recording:stop', { recordingId: this.recordingId });
	}
}
