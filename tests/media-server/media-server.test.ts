import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	createMediaServer,
	MediaRequestError,
	type ClassRoom,
	type MediaServer,
	type RebuiltEvent
} from '../../media-server/src/index.js';
import {
	addViewer,
	startPublisher,
	waitFor,
	type TestPublisher,
	type TestViewer
} from './helpers.js';

// Real mediasoup workers and a real FFmpeg stream; nothing is mocked.
describe('media-server', () => {
	let server: MediaServer;
	let room: ClassRoom;
	let publisher: TestPublisher;
	const viewers: TestViewer[] = [];
	const publishers: TestPublisher[] = [];

	beforeAll(async () => {
		server = await createMediaServer({
			numWorkers: 2,
			listenIp: '127.0.0.1',
			rtcMinPort: 42000,
			rtcMaxPort: 42999,
			// One producer per viewer here, so two viewers fill a router.
			maxConsumersPerRouter: 2
		});
		room = await server.getOrCreateRoom('class-1');
		publisher = await startPublisher(room, 'teacher');
		publishers.push(publisher);
	});

	afterAll(async () => {
		await Promise.all(publishers.map((p) => p.stop()));
		for (const v of viewers) v.close();
		await server?.close();
	});

	it('forwards the publisher stream to a viewer', async () => {
		const viewer = await addViewer(room, 'viewer-1', publisher.producerId);
		viewers.push(viewer);
		await waitFor('RTP at viewer-1', () => viewer.bytes() > 20_000);
		const stats = await room.getStats();
		expect(stats.viewerCount).toBe(1);
		expect(stats.publisherCount).toBe(1);
		const viewerTransport = stats.transports.find((t) => t.peerId === 'viewer-1');
		expect(viewerTransport?.consumerCount).toBe(1);
		expect(viewerTransport?.sendBitrate).toBeGreaterThan(0);
	});

	it('rejects media requests a role may not make', async () => {
		await expect(
			room.request('viewer-1', 'createWebRtcTransport', { direction: 'send' })
		).rejects.toBeInstanceOf(MediaRequestError);
		await expect(room.request('viewer-1', 'resumeConsumer', { consumerId: '' })).rejects.toThrow(
			/invalid resumeConsumer request/
		);
		await expect(room.request('nobody', 'getRouterRtpCapabilities', {})).rejects.toThrow(
			/has not joined/
		);
	});

	it('creates WebRTC transports listening on UDP and TCP', async () => {
		const info = await room.request('teacher', 'createWebRtcTransport', { direction: 'send' });
		const protocols = info.iceCandidates.map((c) => c.protocol).sort();
		expect(protocols).toEqual(['tcp', 'udp']);
		for (const c of info.iceCandidates) {
			expect(c.ip).toBe('127.0.0.1');
			expect(c.port).toBeGreaterThanOrEqual(42000);
			expect(c.port).toBeLessThanOrEqual(42999);
		}
	});

	it('pipes to a router on another worker once a router is full', async () => {
		viewers.push(await addViewer(room, 'viewer-2', publisher.producerId));
		const third = await addViewer(room, 'viewer-3', publisher.producerId);
		viewers.push(third);
		await waitFor('RTP at viewer-3', () => third.bytes() > 20_000);

		const stats = await room.getStats();
		expect(stats.routers).toHaveLength(2);
		const [origin, fanOut] = stats.routers;
		expect(origin?.fanOut).toBe(false);
		expect(origin?.consumerCount).toBe(2);
		expect(fanOut?.fanOut).toBe(true);
		expect(fanOut?.consumerCount).toBe(1);
		expect(fanOut?.workerPid).not.toBe(origin?.workerPid);
		// Pages hand the browser these before signaling; every router agrees.
		expect(await room.request('viewer-3', 'getRouterRtpCapabilities', {})).toEqual(
			server.routerRtpCapabilities
		);
	});

	it('overfills the least-loaded router once every worker carries the class', async () => {
		// mediasoup 3.12 allows a producer id once per worker, so no third router.
		viewers.push(await addViewer(room, 'viewer-4', publisher.producerId));
		const fifth = await addViewer(room, 'viewer-5', publisher.producerId);
		viewers.push(fifth);
		await waitFor('RTP at viewer-5', () => fifth.bytes() > 20_000);
		const stats = await room.getStats();
		expect(stats.routers).toHaveLength(2);
		expect(stats.routers.map((r) => r.consumerCount).sort()).toEqual([2, 3]);
	});

	it('tells consumers when the producer pauses', async () => {
		const events: string[] = [];
		room.on('consumer', (e) => events.push(`${e.peerId}:${e.type}`));
		await room.request('teacher', 'pauseProducer', { producerId: publisher.producerId });
		await waitFor('pause events', () => events.filter((e) => e.endsWith(':paused')).length === 5);
		await room.request('teacher', 'resumeProducer', { producerId: publisher.producerId });
		await waitFor('resume events', () => events.filter((e) => e.endsWith(':resumed')).length === 5);
		expect(events).toContain('viewer-3:paused');
	});

	it('replaces a killed worker and rebuilds the class within 10 s', async () => {
		const before = await room.getStats();
		const originPid = before.routers[0]!.workerPid;
		const rebuilt = once(room, 'rebuilt') as Promise<[RebuiltEvent]>;
		const replaced = once(server, 'workerReplaced');
		const started = Date.now();

		process.kill(originPid, 'SIGKILL');
		const [event] = await rebuilt;
		expect(event.classId).toBe('class-1');
		expect(event.peerIds.sort()).toEqual([
			'teacher',
			'viewer-1',
			'viewer-2',
			'viewer-3',
			'viewer-4',
			'viewer-5'
		]);
		const [{ oldPid }] = (await replaced) as [{ oldPid: number }];
		expect(oldPid).toBe(originPid);
		const workers = await server.getWorkerStats();
		expect(workers).toHaveLength(2);
		expect(workers.map((w) => w.pid)).not.toContain(originPid);

		// Peers reconnect as the client modules would: fresh transports on the new router.
		await publisher.stop();
		publisher = await startPublisher(room, 'teacher');
		publishers.push(publisher);
		for (const v of viewers.splice(0)) v.close();
		const again = await addViewer(room, 'viewer-1', publisher.producerId);
		viewers.push(again);
		await waitFor(
			'RTP after rebuild',
			() => again.bytes() > 20_000,
			10_000 - (Date.now() - started)
		);
		const after = await room.getStats();
		expect(after.routers).toHaveLength(1);
		expect(after.routers[0]!.workerPid).not.toBe(originPid);
	});

	it('loses only the viewers of a fan-out router whose worker dies', async () => {
		const first = viewers[0]!;
		viewers.push(await addViewer(room, 'viewer-2', publisher.producerId));
		viewers.push(await addViewer(room, 'viewer-3', publisher.producerId));
		const fanOut = (await room.getStats()).routers.find((r) => r.fanOut);
		expect(fanOut).toBeDefined();
		const rebuilt = once(room, 'rebuilt') as Promise<[RebuiltEvent]>;

		process.kill(fanOut!.workerPid, 'SIGKILL');
		const [event] = await rebuilt;
		expect(event.peerIds).toEqual(['viewer-3']);
		const received = first.bytes();
		await waitFor('viewer-1 still receiving', () => first.bytes() > received + 10_000);

		const back = await addViewer(room, 'viewer-3', publisher.producerId);
		viewers.push(back);
		await waitFor('RTP at reconnected viewer-3', () => back.bytes() > 20_000, 10_000);
	});

	it('closes the room and forgets it', async () => {
		await server.closeRoom('class-1');
		expect(room.closed).toBe(true);
		expect(server.roomIds).toEqual([]);
		await expect(room.request('teacher', 'getRouterRtpCapabilities', {})).rejects.toThrow(/closed/);
	});
});
