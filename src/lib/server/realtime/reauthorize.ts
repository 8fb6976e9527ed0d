import type { Server } from 'socket.io';
import { MEDIA_NAMESPACE } from '../../media/protocol.ts';
import { QA_NAMESPACE } from '../../qa/protocol.ts';
import { currentRealtime } from './attach.ts';

/** Every authenticated live socket joins its user's room (see sessionSocketAuth). */
export const userRoom = (userId: string) => `user:${userId}`;

/**
 * Cuts a user's live connections (Q&A and media signaling, in every app
 * process when Redis connects them). The clients reconnect by themselves, and
 * the handshake and the class joins check the session and the registration
 * afresh: a cancelled registrant stops watching and asking, a signed-out or
 * disabled user is refused.
 */
export function reauthorize(io: Server, userId: string): void {
	for (const name of [QA_NAMESPACE, MEDIA_NAMESPACE]) {
		io.of(name).in(userRoom(userId)).disconnectSockets(true);
	}
}

/** reauthorize() on this process's socket.io server, when one is attached. */
export function reauthorizeUser(userId: string): void {
	const realtime = currentRealtime();
	if (realtime) reauthorize(realtime.io, userId);
}
