import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveControl, type ControlServer } from '../../media-server/src/control/server.js';
import {
	createMediaServer,
	EVENT_PLAYLIST,
	MANIFEST_FILE,
	MediaRequestError,
	type ConsumerEvent,
	type MediaServer
} from '../../media-server/src/index.js';
import {
	MediaServerUnavailableError,
	RemoteMediaServer,
	type RemoteRoom
} from '../../src/lib/server/media/remote-media.js';
import { startPublisher, waitFor, type TestPublisher } from './helpers.js';

const SECRET = 'control-test-secret-0123456789';
const errorsOnly = { debug() {}, info() {}, warn() {}, error: console.error };

/**
 * The media server as its own service: real mediasoup workers behind the
 * control endpoint, and two app-side connections (as two app processes
 * would hold) relaying peers into the same rooms. Nothing is mocked.
 */
describe('media server control protocol', () => {
	let media: MediaServer;
	let control: ControlServer;
	let url: string;
	let recordingsDir: string;
	const apps: RemoteMediaServer[] = [];
	const publishers: TestPublisher[] = [];

	beforeAll(async () => {
		recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-control-'));
		media = await createMediaServer(
			{ numWorkers: 1, listenIp: '127.0.0.1', rtcMinPort: 43000, rtcMaxPort: 43499 },
			{ recordingsDir }
		);
		control = await serveControl(media, {
			serverId: 'media-test',
			secret: SECRET,
			host: '127.0.0.1',
			port: 0,
			logger: errorsOnly
		});
		url = `http://127.0.0.1:${control.port}`;
		apps.push(
			...(await Promise.all([
				RemoteMediaServer.connect(url, SECRET),
				RemoteMediaServer.connect(url, SECRET)
			]))
		);
	});

	afterAll(async () => {
		for (const p of publishers) await p.stop();
		for (const app of apps) await app.close();
		await control?.close();
		await media?.close();
		fs.rmSync(recordingsDir, { recursive: true, force: true });
	});

	it('refuses a connection without the shared secret', async () => {
		const refused = RemoteMediaServer.connect(url, 'not-the-secret-at-all');
		await expect(refused).rejects.toThrow(MediaServerUnavailableError);
		await expect(refused).rejects.toThrow(/refused the secret/);
	});

	it('tells each app process who it talks to and what the rooms offer', () => {
		const [a] = apps as [RemoteMediaServer];
		expect(a.serverId).toBe('media-test');
		expect(a.config.numWorkers).toBe(1);
		expect(a.routerRtpCapabilities.codecs?.length).toBeGreaterThan(0);
	});

	it('keeps one class room for peers of both processes: counts, one studio, relayed requests', async () => {
		const [a, b] = apps as [RemoteMediaServer, RemoteMediaServer];
		const classId = 'class-shared';
		const [roomA, roomB] = (await Promise.all([
			a.getOrCreateRoom(classId),
			b.getOrCreateRoom(classId)
		])) as [RemoteRoom, RemoteRoom];

		// A producer made on the media server reaches both processes' stand-ins.
		const local = await media.getOrCreateRoom(classId);
		const sawProducer = Promise.all([once(roomA, 'producer'), once(roomB, 'producer')]);
		const publisher = await startPublisher(local, 'ffmpeg-studio');
		publishers.push(publisher);
		await sawProducer;
		expect(roomB.listProducers().map((p) => p.id)).toEqual([publisher.producerId]);

		// Viewers through both processes: both see two.
		roomA.join('viewer-a', 'viewer');
		roomB.join('viewer-b', 'viewer');
		await waitFor('both counts at 2', () => roomA.viewerCount === 2 && roomB.viewerCount === 2);

		// B's viewer consumes the producer through the relay; its consumer's
		// events come back to B alone.
		const rtpCapabilities = await roomB.request('viewer-b', 'getRouterRtpCapabilities', {});
		const transport = await roomB.request('viewer-b', 'createWebRtcTransport', {
			direction: 'recv'
		});
		const consumer = await roomB.request('viewer-b', 'consume', {
			transportId: transport.id,
			producerId: publisher.producerId,
			rtpCapabilities
		});
		expect(consumer.producerId).toBe(publisher.producerId);
		const consumerEvents: ConsumerEvent[] = [];
		roomA.on('consumer', (e) => consumerEvents.push(e));
		const paused = once(roomB, 'consumer') as Promise<[ConsumerEvent]>;
		await local.request('ffmpeg-studio', 'pauseProducer', { producerId: publisher.producerId });
		const [event] = await paused;
		expect(event).toMatchObject({ type: 'paused', peerId: 'viewer-b', consumerId: consumer.id });
		expect(consumerEvents).toEqual([]);

		// A bad request is the peer's error, as in-process.
		await expect(
			roomB.request('viewer-b', 'connectTransport', {
				transportId: 'no-such-transport',
				dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'x' }] }
			})
		).rejects.toThrow(MediaRequestError);

		// One studio per class: a studio joining through B replaces A's.
		roomA.join('studio-a', 'publisher');
		await waitFor('studio-a in the room', () => local.hasPeer('studio-a'));
		const replaced = once(roomA, 'replaced');
		roomB.join('studio-b', 'publisher');
		expect(await replaced).toEqual(['studio-a']);
		expect(local.hasPeer('studio-a')).toBe(false);
		expect(local.hasPeer('studio-b')).toBe(true);

		// A's process goes away: its peers leave the room, and B hears the count.
		await a.close();
		apps.shift();
		await waitFor('viewer-a gone', () => roomB.viewerCount === 1, 10_000);
		expect(local.hasPeer('viewer-a')).toBe(false);
		expect(local.hasPeer('viewer-b')).toBe(true);
	});

	it('brings a process back into its rooms when the control connection returns', async () => {
		const app = await RemoteMediaServer.connect(url, SECRET);
		apps.push(app);
		const room = await app.getOrCreateRoom('class-reconnect');
		const local = await media.getOrCreateRoom('class-reconnect');
		room.join('viewer-c', 'viewer');
		await waitFor('viewer-c in the room', () => local.hasPeer('viewer-c'));

		// The endpoint goes away (a media server restarting) and comes back on its port.
		const { port } = control;
		await control.close();
		await waitFor('viewer-c taken out', () => !local.hasPeer('viewer-c'));
		const rebuilt = once(room, 'rebuilt');
		control = await serveControl(media, {
			serverId: 'media-test',
			secret: SECRET,
			host: '127.0.0.1',
			port,
			logger: errorsOnly
		});
		expect(await rebuilt).toEqual([{ classId: 'class-reconnect', peerIds: ['viewer-c'] }]);
		expect(local.hasPeer('viewer-c')).toBe(true);
		expect(room.viewerCount).toBe(1);
	});

	it('records a class on the media server, started and stopped over the control connection', async () => {
		const [app] = apps.slice(-1) as [RemoteMediaServer];
		const classId = 'class-recorded';
		const local = await media.getOrCreateRoom(classId);
		publishers.push(await startPublisher(local, 'h264-studio', { codec: 'h264' }));
		const recording = await app.record(classId, {
			recordingId: 'rec-1',
			dir: 'class-recorded/rec-1',
			resume: false
		});
		expect(recording.startedAt).toBeGreaterThan(0);
		// The same recording asked for again, by a process taking the class
		// over, is the one running.
		const other = await RemoteMediaServer.connect(url, SECRET);
		apps.push(other);
		const again = await other.record(classId, {
			recordingId: 'rec-1',
			dir: 'class-recorded/rec-1',
			resume: true
		});
		expect(again.startedAt).toBe(recording.startedAt);

		await once(recording, 'playlist');
		const { endedAt } = await recording.stop();
		expect(endedAt).toBeGreaterThanOrEqual(recording.startedAt);
		const dir = path.join(recordingsDir, 'class-recorded/rec-1');
		expect(fs.existsSync(path.join(dir, MANIFEST_FILE))).toBe(true);
		expect(fs.readdirSync(dir)).toContain(EVENT_PLAYLIST);

		await expect(
			app.record(classId, { recordingId: 'rec-2', dir: '../outside', resume: false })
		).rejects.toThrow(/escapes/);
	});
});
