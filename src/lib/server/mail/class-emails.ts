import nodemailer from 'nodemailer';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events.ts';
import { GroupCommit } from '../group-commit.ts';
import type { Site } from './compose.ts';
import { MailOutbox } from './outbox.ts';
import { MailSender, type MailTransport, type RetryPolicy } from './sender.ts';

/**
 * The class emails: what the class lifecycle, registrations and recordings
 * announce becomes outbox jobs, and the sender delivers them.
 *
 * - registered / promoted: a confirmation (with the .ics) and the 24 h and 1 h
 *   reminders still ahead;
 * - a registration cancelled: its jobs not sent yet are dropped;
 * - rescheduled: pending reminders are dropped and queued again for the new
 *   start, and every registrant is told (the .ics carries the new time);
 * - cancelled: pending jobs dropped, every registrant told;
 * - ended: reminders not sent are dropped (the survey is asked on the pages);
 * - the replay is ready: confirmed registrants are told, with the survey link.
 *
 * Listeners run in the publishing process only ('origin'), so each event
 * queues its jobs once however many app processes there are.
 */
type Welcome = { userId: string; promoted: boolean };

export class ClassEmails {
	readonly outbox: MailOutbox;
	readonly sender: MailSender;
	#unsubscribe: (() => void)[] = [];
	/** Registrations arriving together are welcomed with one insert per class. */
	readonly #welcomes = new GroupCommit<Welcome, void>((classId, welcomes) =>
		this.#welcome(classId, welcomes)
	);

	constructor(
		readonly db: Db,
		readonly events: EventBus,
		options: {
			site: Site;
			transport: MailTransport | null;
			retry?: RetryPolicy;
			leaseMs?: number;
			maxSleepMs?: number;
		}
	) {
		this.outbox = new MailOutbox(db);
		this.sender = new MailSender({ db, outbox: this.outbox, ...options });
	}

	/** A transport for SMTP_URL, or null (emails are queued and kept). */
	static transportFor(smtpUrl: string | undefined): MailTransport | null {
		return smtpUrl ? nodemailer.createTransport(smtpUrl) : null;
	}

	start(): void {
		if (this.#unsubscribe.length > 0) return;
		const { events, outbox } = this;
		this.#unsubscribe.push(
			events.on('access.changed', 'origin', async (e) => {
				if (!e.classId) return;
				if (e.reason === 'registered' || e.reason === 'promoted') {
					await this.#welcomes.add(e.classId, {
						userId: e.userId,
						promoted: e.reason === 'promoted'
					});
				} else if (e.reason === 'registration_cancelled') {
					await outbox.dropPending(e.classId, { userId: e.userId });
				}
			}),
			events.on('class.lifecycle', 'origin', async (e) => {
				const now = new Date();
				if (e.type === 'rescheduled') {
					const startsAt = new Date(e.startsAt);
					await outbox.dropReminders(e.classId, now);
					await outbox.queueForRegistrants(
						e.classId,
						[{ kind: 'RESCHEDULED', runAt: now, startsAt }, ...outbox.reminderPlan(startsAt, now)],
						{ now }
					);
				} else if (e.type === 'cancelled') {
					await outbox.dropPending(e.classId, { now });
					await outbox.queueForRegistrants(e.classId, [{ kind: 'CANCELLED', runAt: now }], {
						now
					});
				} else if (e.type === 'ended') {
					await outbox.dropReminders(e.classId, now);
					return;
				} else return;
				this.sender.wake();
			}),
			events.on('recording.ready', 'origin', async (e) => {
				const now = new Date();
				const queued = await outbox.queueForRegistrants(
					e.classId,
					[{ kind: 'REPLAY_READY', runAt: now }],
					{ confirmedOnly: true, now }
				);
				if (queued > 0) this.sender.wake();
			})
		);
		this.sender.start();
	}

	/** The confirmation (or promotion) and the reminders ahead, for registrants who arrived together. */
	async #welcome(classId: string, welcomes: Welcome[]): Promise<void[]> {
		const done = welcomes.map(() => undefined);
		const cls = await this.db.policyClass.findUnique({
			where: { id: classId },
			select: { startsAt: true }
		});
		if (!cls) return done;
		const now = new Date();
		for (const promoted of [false, true]) {
			const userIds = welcomes.filter((w) => w.promoted === promoted).map((w) => w.userId);
			if (userIds.length === 0) continue;
			await this.outbox.queueForRegistrants(
				classId,
				[
					{ kind: promoted ? 'PROMOTED' : 'REGISTERED', runAt: now },
					...this.outbox.reminderPlan(cls.startsAt, now)
				],
				{ userIds, now }
			);
		}
		this.sender.wake();
		return done;
	}

	async stop(): Promise<void> {
		for (const off of this.#unsubscribe) off();
		this.#unsubscribe = [];
		await this.sender.stop();
	}
}
