import type { Namespace, Socket } from 'socket.io';
import type { SessionCache } from '../auth/session-cache.ts';
import {
	SESSION_COOKIE,
	loadSessionUser,
	sessionExpiry,
	type SessionUser
} from '../auth/session.ts';
import type { Db } from '../db/client.ts';
import type { AccessChanged, EventBus, SessionsRevoked } from '../events.ts';

/** Every authenticated live socket joins its user's room. */
export const userRoom = (userId: string) => `user:${userId}`;

/** Read one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | null {
	if (!header) return null;
	for (const part of header.split(';')) {
		const eq = part.indexOf('=');
		if (eq < 0) continue;
		if (part.slice(0, eq).trim() !== name) continue;
		try {
			return decodeURIComponent(part.slice(eq + 1).trim());
		} catch {
			return null;
		}
	}
	return null;
}

/**
 * Browsers always send Origin on WebSocket and polling handshakes; refuse those
 * from another site (cross-site WebSocket hijacking). Non-browser clients send
 * none.
 */
export function sameOrigin(headers: Record<string, string | string[] | undefined>): boolean {
	const origin = headers.origin;
	if (typeof origin !== 'string' || origin === '') return true;
	const forwarded = headers['x-forwarded-host'];
	const host = (typeof forwarded === 'string' && forwarded) || headers.host;
	try {
		return typeof host === 'string' && new URL(origin).host === host.split(',')[0]!.trim();
	} catch {
		return false;
	}
}

type SessionData = { user: SessionUser; sessionId: string; expiryTimer?: NodeJS.Timeout };

/** The user the session middleware authenticated. */
export function socketUser(socket: Socket): SessionUser {
	const session = socket.data.session as SessionData | undefined;
	if (!session) throw new Error('socket is not authenticated');
	return session.user;
}

/** The local sockets of one socket.io room in one namespace (never other processes'). */
export function localSocketsIn(nsp: Namespace, room: string): Socket[] {
	const ids = nsp.adapter.rooms.get(room);
	if (!ids) return [];
	return [...ids].map((id) => nsp.sockets.get(id)).filter((s): s is Socket => s !== undefined);
}

/** How a namespace brings one socket in line with a user's changed access. */
export type AccessRefresher = (socket: Socket, classId: string | null) => Promise<void>;

export type SocketSessionDeps = { db: Db; events: EventBus; sessions: SessionCache };

// setTimeout cannot wait longer than about 24.8 days.
const MAX_TIMER_MS = 2_147_000_000;

/**
 * The live sockets' side of sessions and access, for every namespace:
 * - authenticates each handshake from the session cookie;
 * - cuts a socket when its session ends: sign-out, password change,
 *   disabling, or expiry (checked when it falls due, since activity slides it);
 * - hands every access change to the namespaces, which apply it to the
 *   user's open sockets at once (in every process: the event bus crosses
 *   them through Redis).
 */
export class SocketSessions {
	readonly #deps: SocketSessionDeps;
	readonly #namespaces = new Map<Namespace, AccessRefresher>();

	constructor(deps: SocketSessionDeps) {
		this.#deps = deps;
		deps.events.on('sessions.revoked', 'every-process', (e) => this.#revoked(e));
		deps.events.on('access.changed', 'every-process', (e) => this.#accessChanged(e));
	}

	/** Authenticate the namespace's handshakes and route access changes to `refresh`. */
	protect(nsp: Namespace, refresh: AccessRefresher): void {
		this.#namespaces.set(nsp, refresh);
		nsp.use((socket, next) => void this.#authenticate(socket, next));
	}

	async #authenticate(socket: Socket, next: (err?: Error) => void): Promise<void> {
		try {
			if (!sameOrigin(socket.handshake.headers)) return next(new Error('unauthorized'));
			const token = readCookie(socket.handshake.headers.cookie, SESSION_COOKIE);
			const session = token ? await this.#deps.sessions.validate(token) : null;
			if (!session) return next(new Error('unauthorized'));
			const data: SessionData = { user: session.user, sessionId: session.id };
			socket.data.session = data;
			this.#armExpiry(socket, session.expiresAt);
			socket.once('disconnect', () => clearTimeout(data.expiryTimer));
			await socket.join(userRoom(session.user.id));
			next();
		} catch (err) {
			console.error('socket auth failed', err);
			next(new Error('unauthorized'));
		}
	}

	#armExpiry(socket: Socket, expiresAt: Date): void {
		const data = socket.data.session as SessionData;
		clearTimeout(data.expiryTimer);
		const delay = Math.min(MAX_TIMER_MS, Math.max(0, expiresAt.getTime() - Date.now()));
		data.expiryTimer = setTimeout(() => void this.#checkExpiry(socket), delay);
		data.expiryTimer.unref();
	}

	async #checkExpiry(socket: Socket): Promise<void> {
		if (!socket.connected) return;
		const data = socket.data.session as SessionData;
		const expiresAt = await sessionExpiry(this.#deps.db, data.sessionId).catch(() => undefined);
		if (expiresAt === undefined) return this.#armExpiry(socket, new Date(Date.now() + 60_000));
		if (expiresAt && expiresAt.getTime() > Date.now()) return this.#armExpiry(socket, expiresAt);
		this.#end(socket);
	}

	/** Tell the client its session is over, then cut it; its reconnect is refused. */
	#end(socket: Socket): void {
		socket.emit('session:ended', {});
		socket.disconnect(true);
	}

	#userSockets(userId: string): { nsp: Namespace; socket: Socket }[] {
		const found: { nsp: Namespace; socket: Socket }[] = [];
		for (const nsp of this.#namespaces.keys()) {
			for (const socket of localSocketsIn(nsp, userRoom(userId))) found.push({ nsp, socket });
		}
		return found;
	}

	#revoked(event: SessionsRevoked): void {
		for (const { socket } of this.#userSockets(event.userId)) {
			const { sessionId } = socket.data.session as SessionData;
			const ended = event.sessionIds
				? event.sessionIds.includes(sessionId)
				: sessionId !== event.keep;
			if (ended) this.#end(socket);
		}
	}

	async #accessChanged(event: AccessChanged): Promise<void> {
		const sockets = this.#userSockets(event.userId);
		if (sockets.length === 0) return;
		// A changed role is a changed user: take it from the database again.
		const user =
			event.classId === null ? await loadSessionUser(this.#deps.db, event.userId) : undefined;
		for (const { nsp, socket } of sockets) {
			if (user === null) {
				this.#end(socket);
				continue;
			}
			if (user) (socket.data.session as SessionData).user = user;
			await this.#namespaces.get(nsp)?.(socket, event.classId);
		}
	}
}
