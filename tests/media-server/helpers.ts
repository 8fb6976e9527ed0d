import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { ClassRoom } from '../../media-server/src/index.js';

const VP8_PAYLOAD_TYPE = 101;

export interface TestPublisher {
	producerId: string;
	ffmpeg: ChildProcess;
	stop(): void;
}

/**
 * A publisher without a browser: FFmpeg encodes a VP8 test pattern and sends
 * RTP to a PlainTransport; mediasoup learns FFmpeg's address from the first
 * packet (comedia). A keyframe each second lets new viewers start quickly,
 * since FFmpeg ignores mediasoup's keyframe requests.
 */
export async function startPublisher(room: ClassRoom, peerId: string): Promise<TestPublisher> {
	if (!room.hasPeer(peerId)) room.join(peerId, 'publisher');
	const transport = await room.createPlainTransport(peerId, {
		direction: 'send',
		comedia: true,
		rtcpMux: false
	});
	const ssrc = 1000 + Math.floor(Math.random() * 1_000_000);
	const { id: producerId } = await room.request(peerId, 'produce', {
		transportId: transport.id,
		kind: 'video',
		rtpParameters: {
			codecs: [{ mimeType: 'video/VP8', payloadType: VP8_PAYLOAD_TYPE, clockRate: 90000 }],
			encodings: [{ ssrc }]
		}
	});
	const rtcpPort = transport.rtcpTuple?.localPort;
	const ffmpeg = spawn(
		'ffmpeg',
		[
			'-hide_banner',
			'-loglevel',
			'error',
			'-re',
			'-f',
			'lavfi',
			'-i',
			'testsrc=size=320x240:rate=15',
			'-c:v',
			'libvpx',
			'-deadline',
			'realtime',
			'-cpu-used',
			'8',
			'-b:v',
			'300k',
			'-g',
			'15',
			'-payload_type',
			String(VP8_PAYLOAD_TYPE),
			'-ssrc',
			String(ssrc),
			'-f',
			'rtp',
			`rtp://127.0.0.1:${transport.tuple.localPort}?rtcpport=${rtcpPort}&pkt_size=1200`
		],
		{ stdio: ['ignore', 'ignore', 'inherit'] }
	);
	return {
		producerId,
		ffmpeg,
		stop: () => {
			if (ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
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
