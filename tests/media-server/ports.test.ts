import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { boundUdpPorts, PortAllocator } from '../../media-server/src/recorder/ports.js';

function bindUdp(port: number): Promise<dgram.Socket> {
	return new Promise((resolve, reject) => {
		const socket = dgram.createSocket('udp4');
		socket.once('error', reject);
		socket.bind(port, '127.0.0.1', () => resolve(socket));
	});
}

describe('recording ports', () => {
	it('hands out free pairs and sees which of them a program has bound', async () => {
		const ports = new PortAllocator(36900, 36903);
		const rtp = await ports.acquire();
		expect(rtp).toBe(36900);
		expect(await boundUdpPorts([rtp, rtp + 1])).toEqual(new Set());

		const socket = await bindUdp(rtp);
		expect(await boundUdpPorts([rtp, rtp + 1])).toEqual(new Set([rtp]));
		ports.release(rtp);
		expect(await ports.acquire()).toBe(36902);
		ports.release(36902);
		// The next turn comes back to 36900, which another program holds now.
		expect(await ports.acquire()).toBe(36902);

		await new Promise<void>((resolve) => socket.close(() => resolve()));
		expect(await boundUdpPorts([rtp])).toEqual(new Set());
	});
});
