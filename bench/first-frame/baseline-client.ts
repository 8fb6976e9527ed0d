/**
 * The bare baseline's browser side: mediasoup-client and fetch() signaling,
 * nothing else (no SvelteKit, no socket.io, no session, no authorization).
 * ?role=pub publishes the fake camera + mic with the app's simulcast
 * encodings; ?role=view consumes everything the publisher sends.
 */
import { Device, type types } from 'mediasoup-client';

const role = new URLSearchParams(location.search).get('role') ?? 'view';
const peer = crypto.randomUUID();

async function rpc<T>(method: string, data: Record<string, unknown> = {}): Promise<T> {
	const response = await fetch('/rpc', {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ peer, method, data })
	});
	const body = (await response.json()) as { data?: T; error?: string };
	if (!response.ok || body.error) throw new Error(body.error ?? `rpc ${method} failed`);
	return body.data as T;
}

async function setup(direction: 'send' | 'recv') {
	const device = new Device();
	await device.load({ routerRtpCapabilities: await rpc<types.RtpCapabilities>('caps') });
	const info = await rpc<types.TransportOptions>('createTransport', { direction });
	const transport =
		direction === 'send' ? device.createSendTransport(info) : device.createRecvTransport(info);
	transport.on('connect', ({ dtlsParameters }, done, fail) => {
		rpc('connect', { transportId: transport.id, dtlsParameters }).then(() => done(), fail);
	});
	return { device, transport };
}

async function publish() {
	const stream = await navigator.mediaDevices.getUserMedia({
		audio: true,
		video: { width: { ideal: 1280 }, height: { ideal: 720 } }
	});
	const { transport } = await setup('send');
	transport.on('produce', ({ kind, rtpParameters }, done, fail) => {
		rpc<{ id: string }>('produce', { transportId: transport.id, kind, rtpParameters }).then(
			done,
			fail
		);
	});
	await transport.produce({ track: stream.getAudioTracks()[0]! });
	await transport.produce({
		track: stream.getVideoTracks()[0]!,
		encodings: [
			{ rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
			{ rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
			{ rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 }
		],
		codecOptions: { videoGoogleStartBitrate: 1000 }
	});
	document.body.dataset.state = 'live';
}

async function view() {
	const { device, transport } = await setup('recv');
	const producers = await rpc<string[]>('producers');
	const tracks = await Promise.all(
		producers.map(async (producerId) => {
			const info = await rpc<{
				id: string;
				producerId: string;
				kind: 'audio' | 'video';
				rtpParameters: types.RtpParameters;
			}>('consume', {
				transportId: transport.id,
				producerId,
				rtpCapabilities: device.rtpCapabilities
			});
			const consumer = await transport.consume(info);
			await rpc('resume', { consumerId: consumer.id });
			return consumer.track;
		})
	);
	const video = document.querySelector('video')!;
	video.srcObject = new MediaStream(tracks);
	await video.play().catch(() => undefined);
}

void (role === 'pub' ? publish() : view()).catch((err) => {
	document.body.dataset.state = 'error';
	console.error(err);
});
