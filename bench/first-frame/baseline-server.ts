import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { mediaCodecs } from '../../media-server/src/index.ts';

/**
 * The bare baseline: one mediasoup worker and router, and an HTTP server with
 * a page, its esbuild bundle (baseline-client.ts) and a JSON /rpc endpoint.
 * Loopback only. No authentication: it exists to be measured against.
 */
export type Baseline = { url: string; close: () => Promise<void> };

export async function startBaseline(): Promise<Baseline> {
	const bundle = await build({
		entryPoints: [path.join(import.meta.dirname, 'baseline-client.ts')],
		bundle: true,
		format: 'esm',
		minify: true,
		target: 'chrome120',
		write: false
	});
	const script = bundle.outputFiles[0]!.text;
	const html = `<!doctype html><html><head><meta charset="utf-8"><title>baseline</title></head>
<body><video autoplay playsinline></video><script type="module" src="/client.js"></script></body></html>`;

	const worker = await mediasoup.createWorker({
		logLevel: 'warn',
		rtcMinPort: 30000,
		rtcMaxPort: 30999
	});
	const router = await worker.createRouter({ mediaCodecs });
	const transports = new Map<string, types.WebRtcTransport>();
	const producers = new Map<string, types.Producer>();
	const consumers = new Map<string, types.Consumer>();

	async function handle(method: string, data: Record<string, unknown>): Promise<unknown> {
		switch (method) {
			case 'caps':
				return router.rtpCapabilities;
			case 'createTransport': {
				const t = await router.createWebRtcTransport({
					listenIps: [{ ip: '127.0.0.1' }],
					enableUdp: true,
					enableTcp: true,
					preferUdp: true,
					initialAvailableOutgoingBitrate: 1_000_000
				});
				transports.set(t.id, t);
				return {
					id: t.id,
					iceParameters: t.iceParameters,
					iceCandidates: t.iceCandidates,
					dtlsParameters: t.dtlsParameters
				};
			}
			case 'connect':
				await transports.get(data.transportId as string)!.connect({
					dtlsParameters: data.dtlsParameters as types.DtlsParameters
				});
				return {};
			case 'produce': {
				const p = await transports.get(data.transportId as string)!.produce({
					kind: data.kind as types.MediaKind,
					rtpParameters: data.rtpParameters as types.RtpParameters
				});
				producers.set(p.id, p);
				return { id: p.id };
			}
			case 'producers':
				return [...producers.keys()];
			case 'consume': {
				const c = await transports.get(data.transportId as string)!.consume({
					producerId: data.producerId as string,
					rtpCapabilities: data.rtpCapabilities as types.RtpCapabilities,
					paused: true
				});
				consumers.set(c.id, c);
				return {
					id: c.id,
					producerId: c.producerId,
					kind: c.kind,
					rtpParameters: c.rtpParameters
				};
			}
			case 'resume':
				await consumers.get(data.consumerId as string)!.resume();
				return {};
			default:
				throw new Error(`unknown method ${method}`);
		}
	}

	const server = http.createServer(async (req, res) => {
		if (req.method === 'GET' && req.url?.startsWith('/client.js')) {
			res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
		} else if (req.method === 'GET') {
			res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
		} else if (req.method === 'POST' && req.url === '/rpc') {
			let body = '';
			for await (const chunk of req) body += chunk;
			try {
				const { method, data } = JSON.parse(body) as {
					method: string;
					data: Record<string, unknown>;
				};
				const result = await handle(method, data ?? {});
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ data: result }));
			} catch (err) {
				res.writeHead(400, { 'content-type': 'application/json' });
				res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
			}
		} else res.writeHead(404).end();
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		close: async () => {
			server.close();
			worker.close();
		}
	};
}
