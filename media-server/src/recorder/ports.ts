import dgram from 'node:dgram';
import fs from 'node:fs/promises';

/**
 * Hands out even/odd UDP port pairs (RTP, RTCP) for FFmpeg to listen on, from
 * MEDIA_RECORDING_MIN_PORT..MAX_PORT. A pair is probed with a real bind before
 * it is handed out, so ports taken by other programs are skipped.
 */
export class PortAllocator {
	readonly min: number;
	readonly max: number;
	readonly #used = new Set<number>();
	#next: number;

	constructor(min: number, max: number) {
		const first = min % 2 === 0 ? min : min + 1;
		if (max - first < 1)
			throw new Error(`recording port range ${min}-${max} holds no RTP/RTCP pair`);
		this.min = first;
		this.max = max;
		this.#next = first;
	}

	get inUse(): number {
		return this.#used.size;
	}

	/** An RTP port p (even) whose p+1 is also free; release it with release(p). */
	async acquire(host = '127.0.0.1'): Promise<number> {
		const pairs = Math.floor((this.max - this.min + 1) / 2);
		for (let i = 0; i < pairs; i++) {
			const port = this.#next;
			this.#next = port + 2 > this.max - 1 ? this.min : port + 2;
			if (this.#used.has(port)) continue;
			this.#used.add(port);
			if ((await isFree(port, host)) && (await isFree(port + 1, host))) return port;
			this.#used.delete(port);
		}
		throw new Error(`no free recording ports in ${this.min}-${this.max}`);
	}

	release(port: number): void {
		this.#used.delete(port);
	}
}

function isFree(port: number, host: string): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = dgram.createSocket('udp4');
		socket.once('error', () => {
			socket.close();
			resolve(false);
		});
		socket.bind(port, host, () => socket.close(() => resolve(true)));
	});
}

/**
 * The UDP ports of `ports` that some socket on this machine is bound to, read
 * from /proc/net/udp{,6} (null where /proc is missing). Unlike a test bind,
 * reading does not race the program about to bind them.
 */
export async function boundUdpPorts(ports: number[]): Promise<Set<number> | null> {
	const tables = await Promise.all(
		['/proc/net/udp', '/proc/net/udp6'].map((file) => fs.readFile(file, 'utf8').catch(() => null))
	);
	if (tables.every((t) => t === null)) return null;
	const wanted = new Set(ports);
	const bound = new Set<number>();
	for (const table of tables) {
		for (const line of table?.split('\n').slice(1) ?? []) {
			// "  sl  local_address rem_address ...": the local port is the hex after the colon.
			const local = line.trim().split(/\s+/)[1];
			const port = local ? Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) : NaN;
			if (wanted.has(port)) bound.add(port);
		}
	}
	return bound;
}
