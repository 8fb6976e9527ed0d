import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { ClassRoom } from '../../media-server/src/index.js';

export interface TestPublisher {
	producerId: string;
	ffmpeg: ChildProcess;
	/**
	 * Resolves once FFmpeg is gone. A sender still running could hit a port
	 * that a new comedia transport then takes (after a worker restart), and
	 * that transport would latch onto it instead of the real publisher.
	 */
	stop(): Promise<void>;
}

/**
 * A publisher without a browser: FFmpeg encodes a test pattern (VP8, or H.264
 * constrained baseline as the studio sends it) or a tone (Opus) and sends RTP
 * to a PlainTransport; mediasoup learns FFmpeg's address from the first
 * packet (comedia). FFmpeg ignores key frame requests, so video carries a key
 * frame every `keyFrameEvery` frames (15 fps).
 */
export async function startPublisher(
	room: ClassRoom,
	peerId: string,
	{
		kind = 'video',
		keyFrameEvery = 15,
		codec = 'vp8',
		size = '320x240'
	}: {
		kind?: 'audio' | 'video';
		keyFrameEvery?: number;
		codec?: 'vp8' | 'h264';
		size?: string;
	} = {}
): Promise<TestPublisher> {
	if (!room.hasPeer(peerId)) room.join(peerId, 'publisher');
	const transport = await room.createPlainTransport(peerId, {
		direction: 'send',
		comedia: true,
		rtcpMux: false
	});
	const ssrc = 1000 + Math.floor(Math.random() * 1_000_000);
	const payloadType = kind === 'audio' ? 100 : codec === 'h264' ? 102 : 101;
	const h264 = {
		mimeType: 'video/H264',
		payloadType,
		clockRate: 90000,
		parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' }
	};
	const { id: producerId } = await room.request(peerId, 'produce', {
		transportId: transport.id,
		kind,
		rtpParameters: {
			codecs: [
				kind === 'audio'
					? { mimeType: 'audio/opus', payloadType, clockRate: 48000, channels: 2 }
					: codec === 'h264'
						? h264
						: { mimeType: 'video/VP8', payloadType, clockRate: 90000 }
			],
			encodings: [{ ssrc }]
		},
		appData: { source: kind === 'audio' ? 'mic' : 'camera' }
	});
	const media =
		kind === 'audio'
			? ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000']
			: ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=15`];
	const encoder =
		kind === 'audio'
			? ['-c:a', 'libopus', '-ac', '2', '-b:a', '48k']
			: codec === 'h264'
				? [
						...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
						...['-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-b:v', '300k', '-bf', '0'],
						...['-g', String(keyFrameEvery)]
					]
				: [
						...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k'],
						...['-g', String(keyFrameEvery)]
					];
	const ffmpeg = spawn(
		'ffmpeg',
		[
			'-hide_banner',
			'-loglevel',
			'error',
			'-re',
			...media,
			...encoder,
			'-payload_type',
			String(payloadType),
			'-ssrc',
			String(ssrc),
			'-f',
			'rtp',
			`rtp://127.0.0.1:${transport.tuple.localPort}?rtcpport=${transport.rtcpTuple?.localPort}&pkt_size=1200`
		],
		{ stdio: ['ignore', 'ignore', 'inherit'] }
	);
	const exited = new Promise<void>((resolve) => ffmpeg.once('exit', () => resolve()));
	return {
		producerId,
		ffmpeg,
		stop: async () => {
			if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) ffmpeg.kill('SIGKILL');
			await exited;
		}
	};
}

export interface TestViewer {
	peerId: string;
	consumerId: string;
	/** RTP bytes that reached this viewer's socket. */
	bytes(): number;
	close(): void;
}

/** A viewer without a browser: a PlainTransport consumer sending to a local UDP socket. */
export async function addViewer(
	room: ClassRoom,
	peerId: string,
	producerId: string
): Promise<TestViewer> {
	if (!room.hasPeer(peerId)) room.join(peerId, 'viewer');
	const socket = dgram.createSocket('udp4');
	let bytes = 0;
	socket.on('message', (msg) => {
		bytes += msg.length;
	});
	await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
	const transport = await room.createPlainTransport(peerId, { direction: 'recv' });
	await transport.connect({ ip: '127.0.0.1', port: (socket.address() as AddressInfo).port });
	const rtpCapabilities = await room.request(peerId, 'getRouterRtpCapabilities', {});
	const consumer = await room.request(peerId, 'consume', {
		transportId: transport.id,
		producerId,
		rtpCapabilities
	});
	await room.request(peerId, 'resumeConsumer', { consumerId: consumer.id });
	return {
		peerId,
		consumerId: consumer.id,
		bytes: () => bytes,
		close: () => socket.close()
	};
}

export async function waitFor(
	what: string,
	check: () => boolean | Promise<boolean>,
	timeoutMs = 5000
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}
