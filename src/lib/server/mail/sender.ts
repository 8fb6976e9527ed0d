import type { Db } from '../db/client.ts';
import { composeMail, type ComposedMail, type Site } from './compose.ts';
import type { ClaimedJob, MailOutbox } from './outbox.ts';

/**
 * Sends what the outbox holds, one process-wide loop per app process. It
 * sleeps until the next job falls due (or it is woken by a new one), claims a
 * batch, and sends each through the transport. A failed send is retried with
 * growing delays; a permanent refusal (SMTP 5xx) or the last attempt marks it
 * FAILED for staff to see.
 *
 * Without a transport (no SMTP_URL) nothing is claimed: jobs stay PENDING and
 * go out once SMTP is configured, unless they no longer apply by then.
 *
 * Delivery: a stop waits for the sends in flight, so a restart neither loses
 * nor repeats one. A crash after the SMTP server accepted a message but before
 * it was marked sent repeats that one message when the lease lapses, with the
 * same Message-ID.
 */

/** The part of a nodemailer transporter the sender uses. */
export type MailTransport = {
	sendMail(message: {
		from: string;
		to: string;
		subject: string;
		text: string;
		html: string;
		messageId: string;
		attachments?: { filename: string; content: string; contentType: string }[];
	}): Promise<unknown>;
	close(): void;
};

export type RetryPolicy = {
	/** Delay before the second attempt; each later one waits four times longer. */
	baseMs: number;
	maxAttempts: number;
};

export type MailSenderOptions = {
	db: Db;
	outbox: MailOutbox;
	transport: MailTransport | null;
	site: Site;
	retry?: RetryPolicy;
	/** How long a claimed job is held before another sender may take it. */
	leaseMs?: number;
	/** Looks at the outbox at least this often (jobs queued by other processes). */
	maxSleepMs?: number;
	batchSize?: number;
	now?: () => Date;
};

const DEFAULT_RETRY: RetryPolicy = { baseMs: 60_000, maxAttempts: 6 };

/** Delay before attempt `attempt + 1`: base, 4×base, 16×base, … */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
	return policy.baseMs * 4 ** Math.max(0, attempt - 1);
}

function isPermanent(error: unknown): boolean {
	const code = (error as { responseCode?: number } | null)?.responseCode;
	return typeof code === 'number' && code >= 500 && code < 600;
}

export class MailSender {
	readonly #o: Required<Omit<MailSenderOptions, 'transport'>> & { transport: MailTransport | null };
	#timer: ReturnType<typeof setTimeout> | null = null;
	#running: Promise<void> | null = null;
	#again = false;
	#stopped = true;

	constructor(options: MailSenderOptions) {
		this.#o = {
			retry: DEFAULT_RETRY,
			leaseMs: 120_000,
			maxSleepMs: 30_000,
			batchSize: 20,
			now: () => new Date(),
			...options
		};
	}

	/** Whether an SMTP server is configured: without one, jobs are kept, not sent. */
	get sending(): boolean {
		return this.#o.transport !== null;
	}

	start(): void {
		if (!this.#stopped || !this.sending) return;
		this.#stopped = false;
		this.#sleep(0);
	}

	/** A job was queued: look now rather than at the next planned wake-up. */
	wake(): void {
		if (this.#stopped) return;
		if (this.#running) this.#again = true;
		else this.#sleep(0);
	}

	/** Stops claiming, and waits for the sends in flight. */
	async stop(): Promise<void> {
		this.#stopped = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		await this.#running;
		this.#o.transport?.close();
	}

	#sleep(ms: number): void {
		if (this.#stopped) return;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = setTimeout(() => {
			this.#timer = null;
			this.#running = this.#drain().finally(() => {
				this.#running = null;
				if (this.#again) {
					this.#again = false;
					this.#sleep(0);
				}
			});
		}, ms);
	}

	async #drain(): Promise<void> {
		const { outbox, batchSize, leaseMs, maxSleepMs, now } = this.#o;
		try {
			for (;;) {
				if (this.#stopped) return;
				const jobs = await outbox.claim(now(), batchSize, leaseMs);
				for (const job of jobs) await this.#deliver(job);
				if (jobs.length < batchSize) break;
			}
			const next = await outbox.nextDueAt();
			const wait = next ? next.getTime() - now().getTime() : maxSleepMs;
			if (!this.#again) this.#sleep(Math.min(Math.max(wait, 0), maxSleepMs));
		} catch (error) {
			console.error('[mail] outbox pass failed', error);
			this.#sleep(maxSleepMs);
		}
	}

	async #deliver(job: ClaimedJob): Promise<void> {
		const { db, outbox, site, now } = this.#o;
		let composed: ComposedMail;
		try {
			const result = await composeMail(db, job, site, now());
			if ('skip' in result) return outbox.markSkipped(job.id, result.skip);
			composed = result.send;
		} catch (error) {
			return this.#failed(job, error);
		}
		try {
			await this.#o.transport!.sendMail({
				from: site.from,
				to: composed.to,
				subject: composed.subject,
				text: composed.text,
				html: composed.html,
				messageId: `<${job.id}@${new URL(site.origin).hostname}>`,
				...(composed.ics
					? {
							attachments: [
								{
									filename: composed.ics.filename,
									content: composed.ics.content,
									contentType: 'text/calendar; charset=utf-8; method=PUBLISH'
								}
							]
						}
					: {})
			});
		} catch (error) {
			return this.#failed(job, error);
		}
		await outbox.markSent(job.id, now());
	}

	async #failed(job: ClaimedJob, error: unknown): Promise<void> {
		const { outbox, retry, now } = this.#o;
		const last = job.attempts >= retry.maxAttempts || isPermanent(error);
		const retryAt = last ? null : new Date(now().getTime() + retryDelay(retry, job.attempts));
		await outbox.markAttemptFailed(job.id, String(error), retryAt);
	}
}
