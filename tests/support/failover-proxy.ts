import net from 'node:net';

export type FailoverProxy = { url: string; close: () => Promise<void> };

/**
 * A load balancer in its simplest form, for tests of losing an app process:
 * each TCP connection goes to the first backend that accepts it, so browsers
 * use the first process while it lives and the next one after.
 */
export async function startFailoverProxy(backends: string[]): Promise<FailoverProxy> {
	const targets = backends.map((url) => new URL(url));
	const open = new Set<net.Socket>();
	const server = net.createServer((client) => {
		open.add(client);
		client.once('close', () => open.delete(client));
		client.pause();
		const tryTarget = (i: number) => {
			const target = targets[i];
			if (!target) return client.destroy();
			const upstream = net.connect(Number(target.port), target.hostname);
			let connected = false;
			upstream.once('error', () => {
				if (!connected) tryTarget(i + 1);
			});
			upstream.once('connect', () => {
				connected = true;
				open.add(upstream);
				upstream.once('close', () => (open.delete(upstream), client.destroy()));
				client.once('close', () => upstream.destroy());
				upstream.on('error', () => client.destroy());
				client.on('error', () => upstream.destroy());
				client.pipe(upstream).pipe(client);
				client.resume();
			});
		};
		tryTarget(0);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of open) socket.destroy();
				server.close(() => resolve());
			})
	};
}
