import type { Socket } from 'socket.io';
import { SESSION_COOKIE, validateSessionToken, type SessionUser } from '../auth/session.ts';
import type { Db } from '../db/client.ts';
import { userRoom } from './reauthorize.ts';

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

export type SocketAuthDeps = { getDb: () => Promise<Db>; sessionDays: number };

/**
 * socket.io middleware for any namespace: authenticates the handshake from the
 * session cookie the browser sends with it and leaves the user in
 * `socket.data.user`. Refused handshakes get the error message 'unauthorized'.
 */
export function sessionSocketAuth(deps: SocketAuthDeps) {
	return async (socket: Socket, next: (err?: Error) => void) => {
		try {
			if (!sameOrigin(socket.handshake.headers)) return next(new Error('unauthorized'));
			const token = readCookie(socket.handshake.headers.cookie, SESSION_COOKIE);
			const session = token
				? await validateSessionToken(await deps.getDb(), token, deps.sessionDays)
				: null;
			if (!session) return next(new Error('unauthorized'));
			socket.data.user = session.user;
			await socket.join(userRoom(session.user.id));
			next();
		} catch (err) {
			console.error('socket auth failed', err);
			next(new Error('unauthorized'));
		}
	};
}

/** The user sessionSocketAuth authenticated. */
export function socketUser(socket: Socket): SessionUser {
	const user = socket.data.user as SessionUser | undefined;
	if (!user) throw new Error('socket is not authenticated');
	return user;
}
