import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Server } from 'socket.io';
import type { MediaLoad, MediaService } from '../../../media-server/src/index.ts';
import { MEDIA_NAMESPACE } from '$lib/media/wire-constants.ts';
import { QA_NAMESPACE } from '$lib/qa/wire-constants.ts';
import type { Db } from './db/client.ts';

/** Where the figures live; each is read at scrape time from its owner. */
export type MetricSources = {
	db: Db;
	media: () => Promise<MediaService>;
	/** The socket.io server once attached; null before (and in processes without one). */
	realtime: () => Server | null;
};

export type QaActionOutcome = 'ok' | 'refused';

/**
 * The process's Prometheus metrics (GET /metrics): Node's own (CPU, memory,
 * event loop lag), the media server's workers and rooms, socket.io clients,
 * Q&A actions and the mail queue. Gauges read their owners when scraped, so
 * nothing here keeps a copy of another module's state; the Q&A action
 * counter is the one figure counted as it happens.
 */
export class Metrics {
	readonly registry = new Registry();
	readonly #qaActions: Counter<'action' | 'outcome'>;
	readonly #sources: MetricSources;
	/** Read once per scrape, for all the media gauges; null when the media server is down. */
	#mediaLoad: MediaLoad | null = null;

	constructor(sources: MetricSources) {
		this.#sources = sources;
		const registers = [this.registry];
		collectDefaultMetrics({ register: this.registry, prefix: 'tc_' });
		this.#qaActions = new Counter({
			name: 'tc_qa_actions_total',
			help: 'Q&A actions answered (ask, vote, moderation), by action and outcome.',
			labelNames: ['action', 'outcome'],
			registers
		});

		const snapshot = () => this.#mediaLoad;
		const mediaGauge = (
			name: string,
			help: string,
			read: (load: MediaLoad, gauge: Gauge) => void,
			labelNames: string[] = []
		) =>
			new Gauge({
				name,
				help,
				labelNames,
				registers,
				collect() {
					this.reset();
					const load = snapshot();
					if (load) read(load, this);
				}
			});
		mediaGauge('tc_media_workers', 'mediasoup workers running.', (l, g) => g.set(l.workers.length));
		mediaGauge(
			'tc_media_worker_cpu_seconds',
			'CPU time each mediasoup worker has used (user plus system), cumulative.',
			(l, g) => {
				for (const w of l.workers) g.set({ slot: String(w.slot) }, w.cpuTimeMs / 1000);
			},
			['slot']
		);
		mediaGauge('tc_media_rooms', 'Live classes with a media room.', (l, g) => g.set(l.rooms));
		mediaGauge('tc_media_routers', 'mediasoup routers across rooms.', (l, g) => g.set(l.routers));
		mediaGauge(
			'tc_media_peers',
			'Peers in media rooms, by role (a class being recorded has its recorder).',
			(l, g) => {
				for (const [role, n] of Object.entries(l.peers)) g.set({ role }, n);
			},
			['role']
		);
		mediaGauge('tc_media_transports', 'Open WebRTC and plain transports.', (l, g) =>
			g.set(l.transports)
		);
		mediaGauge('tc_media_producers', 'Open producers.', (l, g) => g.set(l.producers));
		mediaGauge('tc_media_consumers', 'Open consumers.', (l, g) => g.set(l.consumers));
		mediaGauge(
			'tc_media_consumers_by_score',
			'Open consumers by mediasoup score (0-10); the score falls with the packet loss the receiver reports.',
			(l, g) => l.consumerScores.forEach((n, score) => g.set({ score: String(score) }, n)),
			['score']
		);

		new Gauge({
			name: 'tc_socketio_clients',
			help: 'socket.io connections to this process.',
			registers,
			collect() {
				this.set(sources.realtime()?.engine.clientsCount ?? 0);
			}
		});
		new Gauge({
			name: 'tc_socketio_sockets',
			help: 'Sockets per socket.io namespace.',
			labelNames: ['namespace'],
			registers,
			collect() {
				this.reset();
				const io = sources.realtime();
				for (const name of [MEDIA_NAMESPACE, QA_NAMESPACE]) {
					this.set({ namespace: name }, io?.of(name).sockets.size ?? 0);
				}
			}
		});
		new Gauge({
			name: 'tc_mail_jobs',
			help: 'Mail jobs in the queue, by status.',
			labelNames: ['status'],
			registers,
			async collect() {
				this.reset();
				const counts = await sources.db.mailJob.groupBy({ by: ['status'], _count: true });
				for (const c of counts) this.set({ status: c.status }, c._count);
			}
		});
	}

	/** One Q&A action answered: counted by its type and whether it was done. */
	qaAction(action: string, outcome: QaActionOutcome): void {
		this.#qaActions.inc({ action, outcome });
	}

	/** The exposition text and its content type. */
	async scrape(): Promise<{ body: string; contentType: string }> {
		this.#mediaLoad = await this.#sources
			.media()
			.then((media) => media.getLoad())
			.catch(() => null);
		return { body: await this.registry.metrics(), contentType: this.registry.contentType };
	}
}

/** Whether an Authorization header carries the metrics token (compared in constant time). */
export function metricsAuthorized(header: string | null, token: string): boolean {
	const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
	const expected = Buffer.from(token);
	return given.length === expected.length && timingSafeEqual(given, expected);
}
