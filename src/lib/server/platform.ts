import type { Server as HttpServer } from 'node:http';
import os from 'node:os';
import { createClient } from 'redis';
import type { Server } from 'socket.io';
import type { MediaService } from '../../../media-server/src/index.ts';
import { Attendance } from './attendance.ts';
import { SessionCache } from './auth/session-cache.ts';
import { CachedAccessFacts } from './class-access.ts';
import { ClassLifecycle } from './class-lifecycle.ts';
import { createDb, type Db } from './db/client.ts';
import { readServerConfig, type ServerConfig } from './env.ts';
import { EventBus } from './events.ts';
import { Instances } from './instances.ts';
import { Leases } from './leases.ts';
import { ClassEmails } from './mail/class-emails.ts';
import { Materials } from './materials.ts';
import { mediaServiceProvider } from './media/media-service.ts';
import { Metrics } from './metrics.ts';
import { Registrations } from './registration.ts';
import { createThrottles, LoginGuard, type Throttles } from './throttle.ts';

/**
 * The composition root: every process-wide object is made here, once, and
 * wired to the others. Pages, hooks and the socket namespaces take what they
 * need from `platform()`; nothing else keeps process-wide state.
 */
export type Platform = {
	config: ServerConfig;
	db: Db;
	/** Connected when REDIS_URL is set; commands and publishing. */
	redis: RedisClient | null;
	events: EventBus;
	/** Validated sessions, cached until an event ends or changes them. */
	sessions: SessionCache;
	/** The facts class access is decided from, cached until an event changes them. */
	accessFacts: CachedAccessFacts;
	registrations: Registrations;
	lifecycle: ClassLifecycle;
	/** Work only one process may do at a time (renewed once hooks init starts them). */
	leases: Leases;
	/** This process's reports for the operations page, and every process's (started by hooks init). */
	instances: Instances;
	throttles: Throttles;
	loginGuard: LoginGuard;
	media: () => Promise<MediaService>;
	/** The socket.io server, once startRealtime has attached it. */
	realtime: Server | null;
	materials: Materials;
	/** Queues class emails from domain events and sends them (started by hooks init). */
	classEmails: ClassEmails;
	/** Records live and replay attendance (started by hooks init). */
	attendance: Attendance;
	/** Prometheus metrics, read by GET /metrics when METRICS_TOKEN is set. */
	metrics: Metrics;
	/**
	 * Stops what hooks init started: the mail sender, attendance, the reserved
	 * seat sweep, lease renewal and this process's reports.
	 */
	stop: () => Promise<void>;
};

export type RedisClient = ReturnType<typeof createClient>;

// One per process. The SvelteKit bundle and modules loaded beside it (dev
// server, tests of the build) must share it: two PGlite instances on one
// data folder corrupt it.
const PLATFORM_KEY = Symbol.for('taxpayer-classroom.platform');
// server.js (or the dev plugin in vite.config.ts) leaves the HTTP server here.
const HTTP_SERVER_KEY = Symbol.for('taxpayer-classroom.httpServer');
// server.js leaves the built client's folder here; the dev server has none.
const CLIENT_DIR_KEY = Symbol.for('taxpayer-classroom.clientDir');
type Holder = {
	[PLATFORM_KEY]?: Promise<Platform>;
	[HTTP_SERVER_KEY]?: HttpServer;
	[CLIENT_DIR_KEY]?: string;
};

async function createPlatform(startMedia: boolean): Promise<Platform> {
	const config = readServerConfig();
	const media = mediaServiceProvider(config);
	// The workers start while the database opens (about two seconds on PGlite
	// after a crash): a server restarted mid-class has them ready when it answers.
	if (startMedia) void media().catch((error) => console.error('[media] could not start', error));
	const db = await createDb(config.env);
	let redis: RedisClient | null = null;
	let events = EventBus.local();
	if (config.env.REDIS_URL) {
		redis = createClient({ url: config.env.REDIS_URL });
		const subscriber = redis.duplicate();
		await Promise.all([redis.connect(), subscriber.connect()]);
		events = await EventBus.overRedis(redis, subscriber, `${config.env.REDIS_PREFIX}:events`);
	}
	const registrations = new Registrations(db, events);
	const throttles = createThrottles({
		redis,
		prefix: `${config.env.REDIS_PREFIX}:throttle`,
		policies: {
			loginAccount: {
				points: config.env.LOGIN_MAX_FAILURES,
				durationSeconds: config.env.LOGIN_LOCKOUT_SECONDS
			}
		}
	});
	const { env } = config;
	const classEmails = new ClassEmails(db, events, {
		site: { origin: env.ORIGIN ?? `http://localhost:${env.PORT}`, from: env.MAIL_FROM },
		transport: ClassEmails.transportFor(env.SMTP_URL)
	});
	const attendance = new Attendance(db, events);
	const instanceId = env.INSTANCE_ID ?? `${os.hostname()}:${env.PORT}`;
	const leases = new Leases(db, instanceId, { ttlMs: env.LEASE_SECONDS * 1000 });
	const p: Platform = {
		config,
		db,
		redis,
		events,
		sessions: new SessionCache(db, events, config.env.SESSION_DAYS),
		accessFacts: new CachedAccessFacts(db, events),
		registrations,
		lifecycle: new ClassLifecycle(db, events, registrations),
		leases,
		instances: new Instances(db, instanceId, {
			media,
			connections: () => p.realtime?.engine.clientsCount ?? 0
		}),
		throttles,
		loginGuard: new LoginGuard(throttles),
		media,
		realtime: null,
		materials: new Materials(db, {
			dir: env.MATERIALS_DIR,
			maxBytes: Math.round(env.MATERIALS_MAX_MB * 1024 * 1024)
		}),
		classEmails,
		attendance,
		metrics: new Metrics({ db, media, realtime: () => p.realtime }),
		stop: async () => {
			registrations.stop();
			leases.stop();
			await Promise.all([classEmails.stop(), attendance.stop(), p.instances.stop()]);
		}
	};
	return p;
}

/** The one platform of the process; the first call makes it (and says whether media starts now). */
function sharedPlatform(startMedia: boolean): Promise<Platform> {
	const holder = globalThis as Holder;
	holder[PLATFORM_KEY] ??= createPlatform(startMedia);
	return holder[PLATFORM_KEY];
}

/** The process's platform; made on first use, its media workers then start when first needed. */
export function platform(): Promise<Platform> {
	return sharedPlatform(false);
}

/** The platform of a process that serves live classes: its media workers start at once. */
export function startPlatform(): Promise<Platform> {
	return sharedPlatform(true);
}

export async function getDb(): Promise<Db> {
	return (await platform()).db;
}

/** The HTTP server that server.js (or the dev server) runs, if any. */
export function sharedHttpServer(): HttpServer | undefined {
	return (globalThis as Holder)[HTTP_SERVER_KEY];
}

/** The production build's client folder (its scripts and what the build says of them). */
export function builtClientDir(): string | undefined {
	return (globalThis as Holder)[CLIENT_DIR_KEY];
}
