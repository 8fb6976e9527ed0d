import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import {
	isMediaMethod,
	MediaLimitError,
	MediaRequestError,
	type ClassRoom
} from '../class-room.js';
import type { ClassRecording, MediaServer } from '../index.js';
import type { MediaLogger } from '../logger.js';
import {
	CONTROL_PATH,
	controlAuthSchema,
	controlSchemas,
	type ControlClientEvents,
	type ControlErrorKind,
	type ControlMethod,
	type ControlReply,
	type ControlResults,
	type ControlServerEvents
} from './protocol.js';

type ControlSocket = Socket<ControlClientEvents, ControlServerEvents>;
type Handler<M extends ControlMethod> = (
	socket: ControlSocket,
	request: z.output<(typeof controlSchemas)[M]>
) => Promise<ControlResults[M]> | ControlResults[M];

export interface ControlServerOptions {
	/** The media server's name, told to the app processes (default: host name and port). */
	serverId?: string;
	/** MEDIA_CONTROL_SECRET: app processes must present it. */
	secret: string;
	host: string;
	/** 0 picks a free port (tests). */
	port: number;
	logger: MediaLogger;
}

export interface ControlServer {
	port: number;
	close(): Promise<void>;
}

/** socket.io room of the app connections that opened a class's room. */
const classChannel = (classId: string) => `class:${classId}`;

const digest = (value: string) => createHash('sha256').update(value).digest();

function failure(error: unknown): { error: ControlErrorKind; message: string } {
	if (error instanceof MediaLimitError) return { error: 'limit', message: error.message };
	if (error instanceof MediaRequestError) return { error: 'request', message: error.message };
	return { error: 'server', message: 'media server error' };
}

/**
 * A media server as its own service: the control endpoint app processes
 * relay their live classes through. One ClassRoom per class, whichever app
 * process its peers came through, so a viewer on any process watches any
 * class, and the one-studio rule and viewer counts hold across them. A
 * connection that drops takes its peers out of their rooms (its app process
 * is gone; its browsers reconnect through another). Recordings run here, next
 * to the media, and outlive the connection that started them.
 */
export async function serveControl(
	media: MediaServer,
	options: ControlServerOptions
): Promise<ControlServer> {
	const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
	const io = new Server<ControlClientEvents, ControlServerEvents>(httpServer, {
		path: CONTROL_PATH,
		serveClient: false,
		// Producers' RTP parameters and capabilities are a few kilobytes; a room's stats more.
		maxHttpBufferSize: 4e6
	});
	const secret = digest(options.secret);
	io.use((socket, next) => {
		const auth = controlAuthSchema.safeParse(socket.handshake.auth);
		if (auth.success && timingSafeEqual(digest(auth.data.secret), secret)) return next();
		options.logger.warn('control connection refused: wrong secret', {
			address: socket.handshake.address
		});
		next(new Error('unauthorized'));
	});

	// Known once listening (the port may be the system's choice).
	let serverId = options.serverId ?? '';
	const wired = new WeakSet<ClassRoom>();
	/** The connection each peer came through: its consumer events go there alone. */
	const peerOwners = new Map<string, ControlSocket>();
	const peersOf = new WeakMap<ControlSocket, Map<string, string>>();

	function wire(room: ClassRoom): ClassRoom {
		if (wired.has(room)) return room;
		wired.add(room);
		const { classId } = room;
		const channel = io.to(classChannel(classId));
		room.on('producer', (e) => channel.emit('room:producer', { classId, ...e }));
		room.on('consumer', (e) => peerOwners.get(e.peerId)?.emit('room:consumer', { classId, ...e }));
		room.on('rebuilt', (e) => channel.emit('room:rebuilt', e));
		room.on('viewers', (count) => channel.emit('room:viewers', { classId, count }));
		room.on('replaced', (peerId) => {
			forget(peerId);
			channel.emit('room:replaced', { classId, peerId });
		});
		room.once('closed', () => channel.emit('room:closed', { classId }));
		return room;
	}

	function forget(peerId: string): void {
		const owner = peerOwners.get(peerId);
		peerOwners.delete(peerId);
		if (owner) peersOf.get(owner)?.delete(peerId);
	}

	const openRoom = async (socket: ControlSocket, classId: string) => {
		const room = wire(await media.getOrCreateRoom(classId));
		await socket.join(classChannel(classId));
		return room;
	};

	async function existingRoom(classId: string): Promise<ClassRoom> {
		const room = await media.getRoom(classId);
		if (!room || room.closed) throw new MediaRequestError('no such room');
		return room;
	}

	/** Recordings whose events reach the app processes (wired once, however many ask). */
	const wiredRecordings = new WeakSet<ClassRecording>();

	const handlers: { [M in ControlMethod]: Handler<M> } = {
		'server:hello': () => ({
			serverId,
			config: media.config,
			routerRtpCapabilities: media.routerRtpCapabilities
		}),
		'server:load': () => media.getLoad(),
		'room:open': async (socket, { classId }) => {
			const room = await openRoom(socket, classId);
			return { producers: room.listProducers(), viewerCount: room.viewerCount };
		},
		'room:join': async (socket, { classId, peerId, role }) => {
			const room = await openRoom(socket, classId);
			room.join(peerId, role);
			peerOwners.set(peerId, socket);
			peersOf.get(socket)?.set(peerId, classId);
			return {};
		},
		'room:leave': async (_socket, { classId, peerId }) => {
			forget(peerId);
			const room = await media.getRoom(classId);
			if (room && !room.closed) room.leave(peerId);
			return {};
		},
		'room:request': async (_socket, { classId, peerId, method, data }) => {
			if (!isMediaMethod(method)) throw new MediaRequestError(`unknown method ${method}`);
			const room = await existingRoom(classId);
			return room.request(peerId, method, data as never);
		},
		'room:stats': async (_socket, { classId }) => (await existingRoom(classId)).getStats(),
		'room:close': async (_socket, { classId }) => {
			await media.closeRoom(classId);
			return {};
		},
		'recording:start': async (socket, { classId, recordingId, dir, resume }) => {
			await openRoom(socket, classId);
			const recording = await media.record(classId, { recordingId, dir, resume });
			if (!wiredRecordings.has(recording)) {
				wiredRecordings.add(recording);
				const channel = io.to(classChannel(classId));
				recording.once('playlist', () => channel.emit('recording:playlist', { recordingId }));
				recording.once('stopped', ({ endedAt }) =>
					channel.emit('recording:stopped', { recordingId, endedAt })
				);
			}
			return { startedAt: recording.startedAt };
		},
		'recording:stop': async (_socket, { recordingId }) => {
			const recording = await media.runningRecording(recordingId);
			return recording ? recording.stop() : { endedAt: null };
		}
	};
	io.on('connection', (socket) => {
		peersOf.set(socket, new Map());
		for (const method of Object.keys(controlSchemas) as ControlMethod[]) {
			socket.on(method, async (payload: unknown, ack: unknown) => {
				if (typeof ack !== 'function') return;
				const reply = ack as (r: ControlReply<unknown>) => void;
				const parsed = controlSchemas[method].safeParse(payload);
				if (!parsed.success) {
					return reply({ ok: false, error: 'invalid', message: z.prettifyError(parsed.error) });
				}
				try {
					const handler = handlers[method] as Handler<typeof method>;
					reply({ ok: true, data: await handler(socket, parsed.data as never) });
				} catch (error) {
					if (!(error instanceof MediaRequestError)) {
						options.logger.error('control request failed', { method, error: String(error) });
					}
					reply({ ok: false, ...failure(error) });
				}
			});
		}
		socket.on('disconnect', () => {
			// The app process is gone (or cut off): its peers leave their rooms.
			for (const [peerId, classId] of peersOf.get(socket) ?? []) {
				peerOwners.delete(peerId);
				void media.getRoom(classId).then((room) => {
					if (room && !room.closed) room.leave(peerId);
				});
			}
		});
	});

	await new Promise<void>((resolve, reject) => {
		httpServer.once('error', reject);
		httpServer.listen(options.port, options.host, () => resolve());
	});
	const { port } = httpServer.address() as AddressInfo;
	serverId = options.serverId ?? `${os.hostname()}:${port}`;
	return {
		port,
		close: () => new Promise<void>((resolve) => void io.close(() => resolve()))
	};
}
