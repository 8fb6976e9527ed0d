import type { LiveClassStatus } from './protocol.ts';
import { Signaling } from './signaling.ts';

/**
 * While the watch page plays the class's HLS stream (by choice, on fallback or
 * on overflow), this keeps the viewer present in the class on the media
 * socket: counted in live attendance and told of status changes, with no SFU
 * peer and no WebRTC seat. It joins again after a reconnect or an access change.
 */
export class HlsPresence {
	readonly #signaling: Signaling;

	constructor(classId: string, onStatus: (status: LiveClassStatus) => void) {
		const signaling = (this.#signaling = new Signaling(classId, 'viewer'));
		const join = () =>
			signaling.join({ hls: true }).then(
				(reply) => onStatus(reply.status),
				() => undefined
			);
		signaling.on('status', (e) => onStatus(e.status));
		signaling.on('reconnected', join);
		signaling.on('access', join);
		void join();
	}

	close() {
		this.#signaling.close();
	}
}
