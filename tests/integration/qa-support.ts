import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { QaClient } from '../../src/lib/qa/client.ts';
import type { QuestionView } from '../../src/lib/qa/protocol.ts';
import { createSession, SESSION_COOKIE } from '../../src/lib/server/auth/session.ts';
import type { Db } from '../../src/lib/server/db/client.ts';
import type { Role } from '../../src/lib/server/db/generated/enums.ts';
import { SessionCache } from '../../src/lib/server/auth/session-cache.ts';
import { CachedAccessFacts } from '../../src/lib/server/class-access.ts';
import { EventBus } from '../../src/lib/server/events.ts';
import { registerQaNamespace } from '../../src/lib/server/qa/namespace.ts';
import type { QaLimits } from '../../src/lib/server/qa/service.ts';
import { SocketSessions } from '../../src/lib/server/realtime/socket-sessions.ts';
import {
	createThrottles,
	type ThrottleName,
	type ThrottlePolicy
} from '../../src/lib/server/throttle.ts';
import { makeUser } from '../support/fixtures.ts';

/**
 * A real socket.io server with the Q&A namespace on a loopback port. With a
 * Redis URL, servers sharing `redisKey` share broadcasts, domain events and
 * throttles, as app processes of one deployment do.
 */
export async function startQaServer(
	db: Db,
	options: {
		limits?: Partial<QaLimits>;
		throttles?: Partial<Record<ThrottleName, ThrottlePolicy>>;
		redisUrl?: string;
		redisKey?: string;
		clock?: () => number;
	} = {}
) {
	const http = createServer();
	const io = new Server(http, { serveClient: false });
	let closeRedis = async () => {};
	let events = EventBus.local();
	let throttles = createThrottles({ policies: options.throttles });
	if (options.redisUrl) {
		const [{ createAdapter }, { createClient }] = await Promise.all([
			import('@socket.io/redis-adapter'),
			import('redis')
		]);
		const key = options.redisKey ?? 'socket.io';
		const pub = createClient({ url: options.redisUrl });
		const sub = pub.duplicate();
		const eventSub = pub.duplicate();
		await Promise.all([pub.connect(), sub.connect(), eventSub.connect()]);
		io.adapter(createAdapter(pub, sub, { key }));
		events = await EventBus.overRedis(pub, eventSub, `${key}:events`);
		throttles = createThrottles({
			redis: pub,
			prefix: `${key}:throttle`,
			policies: options.throttles
		});
		closeRedis = async () => {
			await events.close();
			await Promise.allSettled([pub.quit(), sub.quit(), eventSub.quit()]);
		};
	}
	const sessions = new SocketSessions({
		db,
		events,
		sessions: new SessionCache(db, events, 30)
	});
	registerQaNamespace(io, {
		db,
		accessFacts: new CachedAccessFacts(db, events),
		events,
		sessions,
		throttles,
		limits: options.limits,
		clock: options.clock
	});
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
	return {
		url,
		io,
		events,
		close: async () => {
			io.disconnectSockets(true);
			await new Promise<void>((resolve) => io.close(() => resolve()));
			await closeRedis();
		}
	};
}

/** A user with a session cookie, optionally registered for a class. */
export async function makeMember(
	db: Db,
	opts: {
		role?: Role;
		classId?: string;
		status?: 'CONFIRMED' | 'WAITLISTED' | 'CANCELLED';
		name?: string;
		priority?: boolean;
	} = {}
) {
	const user = await makeUser(db, opts.role ?? 'TAXPAYER', opts.name);
	if (opts.priority) {
		await db.user.update({ where: { id: user.id }, data: { priorityService: true } });
	}
	if (opts.classId) {
		await db.registration.create({
			data: {
				classId: opts.classId,
				userId: user.id,
				status: opts.status ?? 'CONFIRMED',
				waitlistedAt: opts.status === 'WAITLISTED' ? new Date() : null,
				cancelledAt: opts.status === 'CANCELLED' ? new Date() : null
			}
		});
	}
	const { token } = await createSession(db, user.id, 30);
	return { user, cookie: `${SESSION_COOKIE}=${token}` };
}

export function connect(url: string, classId: string, cookie: string | null) {
	return new QaClient({
		url,
		classId,
		socketOptions: {
			extraHeaders: cookie ? { cookie } : {},
			reconnectionDelay: 50,
			reconnectionDelayMax: 200
		}
	});
}

/** Resolve once `predicate` holds for the client's state (checked on every change). */
export function waitFor<T>(
	client: QaClient,
	predicate: (questions: QuestionView[]) => T | undefined | false,
	timeoutMs = 3000
): Promise<T> {
	return new Promise((resolve, reject) => {
		let unsubscribe = () => {};
		const timer = setTimeout(() => {
			unsubscribe();
			reject(new Error('timed out waiting for Q&A state'));
		}, timeoutMs);
		unsubscribe = client.subscribe((state) => {
			const value = predicate([...state.questions.values()]);
			if (value !== undefined && value !== false) {
				clearTimeout(timer);
				queueMicrotask(() => unsubscribe());
				resolve(value);
			}
		});
	});
}
