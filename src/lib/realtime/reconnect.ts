import type { Socket } from 'socket.io-client';

/**
 * The server cuts a socket when its user's access changed (reauthorize() on
 * the server). Come back after a moment, so that a session cookie renewed by
 * the same request (a password change) has reached the browser, and let the
 * handshake and the joins decide afresh. Returns a stop function for close().
 */
export function reconnectWhenCut(
	socket: Socket,
	allowed: () => boolean = () => true,
	delayMs = 1000
): () => void {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const onDisconnect = (reason: Socket.DisconnectReason) => {
		if (reason !== 'io server disconnect' || !allowed()) return;
		clearTimeout(timer);
		timer = setTimeout(() => socket.connect(), delayMs);
	};
	socket.on('disconnect', onDisconnect);
	return () => {
		clearTimeout(timer);
		socket.off('disconnect', onDisconnect);
	};
}
