import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaServer, type MediaServer } from '../../media-server/src/index.ts';
import { createSession, SESSION_COOKIE } from '../../src/lib/server/auth/session.ts';
import { SessionCache } from '../../src/lib/server/auth/session-cache.ts';
import { CachedAccessFacts } from '../../src/lib/server/class-access.ts';
import { ClassLifecycle } from '../../src/lib/server/class-lifecycle.ts';
import { EventBus } from '../../src/lib/server/events.ts';
import { registerMediaNamespace } from '../../src/lib/server/media/namespace.ts';
import { SocketSessions } from '../../src/lib/server/realtime/socket-sessions.ts';
import { Registrations } from '../../src/lib/server/registration.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUser } from '../support/fixtures.ts';

/**
 * Live sockets and sessions, on a real socket.io server with the media
 * namespace and a real mediasoup worker: a browser's sockets end with its
 * session (sign-out or expiry) and no other's, and a join that completes
 * after its connection closed leaves nothing behind.
 */
let t: TestDatabase;
let media: MediaServer;
/** Holds the media server back until released, to finish a join after its disconnect. */
let gate: Promise<void> = Promise.resolve();
const servers: Server[] = [];
const clients: ClientSocket[] = [];

/** The media namespace on its own socket.io server; sessions live `sessionDays`. */
async function startServer(sessionDays = 30) {
	const http = createServer();
	const io = new Server(http, { serveClient: false });
	servers.push(io);
	const events = EventBus.local();
	const sessions = new SocketSessions({
		db: t.db,
		events,
		sessions: new SessionCache(t.db, events, sessionDays)
	});
	registerMediaNamespace(io, {
		accessFacts: new CachedAccessFacts(t.db, events),
		events,
		sessions,
		lifecycle: new ClassLifecycle(t.db, events, new Registrations(t.db, events)),
		media: async () => {
			await gate;
			return media;
		}
	});
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
	return { events, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

let main: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
	t = await openTestDatabase();
	media = await createMediaServer({ numWorkers: 1, listenIp: '127.0.0.1' });
	main = await startServer();
});

afterAll(async () => {
	for (const c of clients) c.disconnect();
	for (const io of servers) await new Promise<void>((resolve) => io.close(() => resolve()));
	await media?.close();
	await t?.close();
});

function connect(token: string, url = main.url): Promise<ClientSocket> {
	const socket = ioClient(`${url}/media`, {
		transports: ['websocket'],
		reconnection: false,
		extraHeaders: { cookie: `${SESSION_COOKIE}=${token}` }
	});
	clients.push(socket);
	return new Promise((resolve, reject) => {
		socket.once('connect', () => resolve(socket));
		socket.once('connect_error', reject);
	});
}

const ended = (socket: ClientSocket) =>
	new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

describe('sessions on live sockets', () => {
	it('signing out in one browser ends only that browser’s sockets', async () => {
		const user = await makeUser(t.db);
		const [a, b] = await Promise.all([
			createSession(t.db, user.id, 30),
			createSession(t.db, user.id, 30)
		]);
		const [inA, alsoInA, inB] = await Promise.all([
			connect(a.token),
			connect(a.token),
			connect(b.token)
		]);
		const told = new Promise((resolve) => inA.once('session:ended', resolve));
		const endings = [ended(inA), ended(alsoInA)];
		await main.events.publish('sessions.revoked', {
			userId: user.id,
			sessionIds: [a.id],
			reason: 'logout'
		});
		await told;
		expect(await Promise.all(endings)).toEqual(['io server disconnect', 'io server disconnect']);
		// Barrier: the other browser still answers after the revocation was handled.
		expect(
			await inB.timeout(5000).emitWithAck('live:join', { classId: 'not-a-uuid', role: 'viewer' })
		).toMatchObject({ ok: false, error: 'invalid' });
		expect(inB.connected).toBe(true);
	});

	it('a session that expires while a socket is open ends that socket', async () => {
		// Sessions of two seconds here: the handshake does not slide one that
		// has more than half its life left, so it runs out while the socket is open.
		const shortLived = await startServer(2 / 86_400);
		const user = await makeUser(t.db);
		const { token, id } = await createSession(t.db, user.id, 30);
		await t.db.session.update({ where: { id }, data: { expiresAt: new Date(Date.now() + 2000) } });
		const socket = await connect(token, shortLived.url);
		const told = new Promise((resolve) => socket.once('session:ended', resolve));
		expect(await ended(socket)).toBe('io server disconnect');
		await told;
	});
});

describe('access changes on open sockets', () => {
	it('a class handed to another instructor takes the studio from the old one', async () => {
		const [before, after] = [
			await makeUser(t.db, 'INSTRUCTOR'),
			await makeUser(t.db, 'INSTRUCTOR')
		];
		const cls = await makeClass(t.db, { instructorId: before.id, status: 'LIVE' });
		const socket = await connect((await createSession(t.db, before.id, 30)).token);
		expect(
			await socket.timeout(10_000).emitWithAck('live:join', { classId: cls.id, role: 'publisher' })
		).toMatchObject({ ok: true });
		const told = new Promise((resolve) => socket.once('live:access', resolve));
		// As the lifecycle's edit does: write, then announce.
		await t.db.policyClass.update({ where: { id: cls.id }, data: { instructorId: after.id } });
		await main.events.publish('class.lifecycle', {
			type: 'reassigned',
			classId: cls.id,
			actorId: after.id,
			instructorId: after.id,
			previousInstructorId: before.id
		});
		await main.events.publish('access.changed', {
			userId: before.id,
			classId: cls.id,
			reason: 'reassigned'
		});
		expect(await told).toEqual({ classId: cls.id });
		expect(
			await socket
				.timeout(10_000)
				.emitWithAck('live:media', { method: 'getRouterRtpCapabilities', data: {} })
		).toMatchObject({ ok: false, error: 'not_joined' });
		expect(
			await socket.timeout(10_000).emitWithAck('live:join', { classId: cls.id, role: 'publisher' })
		).toEqual({ ok: false, error: 'forbidden' });
	});
});

describe('joins', () => {
	it('one join at a time per connection: while one is under way, the others are busy', async () => {
		const instructor = await makeUser(t.db, 'INSTRUCTOR');
		const cls = await makeClass(t.db, { instructorId: instructor.id, status: 'LIVE' });
		const { token } = await createSession(t.db, instructor.id, 30);
		const socket = await connect(token);
		let release = () => {};
		gate = new Promise((resolve) => (release = resolve));
		const first = socket
			.timeout(10_000)
			.emitWithAck('live:join', { classId: cls.id, role: 'publisher' });
		const others = await Promise.all(
			Array.from({ length: 5 }, () =>
				socket.timeout(10_000).emitWithAck('live:join', { classId: cls.id, role: 'publisher' })
			)
		);
		expect(others).toEqual(Array(5).fill({ ok: false, error: 'busy' }));
		release();
		expect(await first).toMatchObject({ ok: true, status: 'LIVE' });
		socket.disconnect();
	});

	it('a join that completes after its connection closed leaves no peer behind', async () => {
		const instructor = await makeUser(t.db, 'INSTRUCTOR');
		const cls = await makeClass(t.db, { instructorId: instructor.id, status: 'LIVE' });
		const { token } = await createSession(t.db, instructor.id, 30);
		const socket = await connect(token);
		let release = () => {};
		gate = new Promise((resolve) => (release = resolve));
		socket.emit('live:join', { classId: cls.id, role: 'publisher' }, () => {});
		const gone = ended(socket);
		// The join is under way (waiting for media); the connection closes first.
		await new Promise((resolve) => setImmediate(resolve));
		socket.disconnect();
		await gone;
		release();
		const room = await media.getOrCreateRoom(cls.id);
		// Whatever the join did after the disconnect, it undid.
		await expect.poll(async () => (await room.getStats()).publisherCount).toBe(0);
		expect((await room.getStats()).transports).toEqual([]);
	});
});
