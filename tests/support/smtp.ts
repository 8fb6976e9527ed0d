import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server (smtp-server from npm) on a local port, keeping every
 * message it accepts, parsed. `refuse` makes it answer the next RCPT TO with
 * an error, to test retries.
 */
export type TestSmtp = {
	url: string;
	messages: ParsedMail[];
	/** Resolves with the first message (already received or still to come) matching. */
	waitFor: (match: (mail: ParsedMail) => boolean, timeoutMs?: number) => Promise<ParsedMail>;
	/** The next `count` recipients are refused with this SMTP code (4xx temporary, 5xx permanent). */
	refuse: (code: number, count?: number) => void;
	/** Recipients refused so far. */
	refused: () => number;
	close: () => Promise<void>;
};

export async function startSmtp(): Promise<TestSmtp> {
	const messages: ParsedMail[] = [];
	const arrivals = new EventEmitter();
	let refusals: { code: number; left: number } | null = null;
	let refusedCount = 0;
	const server = new SMTPServer({
		authOptional: true,
		disabledCommands: ['STARTTLS', 'AUTH'],
		logger: false,
		onRcptTo(_address, _session, callback) {
			if (refusals && refusals.left > 0) {
				refusals.left--;
				refusedCount++;
				const error = new Error('mailbox unavailable, try later') as Error & {
					responseCode: number;
				};
				error.responseCode = refusals.code;
				return callback(error);
			}
			callback();
		},
		onData(stream, _session, callback) {
			simpleParser(stream).then(
				(mail) => {
					messages.push(mail);
					arrivals.emit('mail', mail);
					callback();
				},
				(error: Error) => callback(error)
			);
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.server.address() as AddressInfo;
	return {
		url: `smtp://127.0.0.1:${port}`,
		messages,
		waitFor: (match, timeoutMs = 30_000) => {
			const found = messages.find(match);
			if (found) return Promise.resolve(found);
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => {
					arrivals.off('mail', listener);
					reject(new Error(`no matching email within ${timeoutMs} ms`));
				}, timeoutMs);
				const listener = (mail: ParsedMail) => {
					if (!match(mail)) return;
					clearTimeout(timer);
					arrivals.off('mail', listener);
					resolve(mail);
				};
				arrivals.on('mail', listener);
			});
		},
		refuse: (code, count = 1) => {
			refusals = { code, left: count };
		},
		refused: () => refusedCount,
		close: () => new Promise((resolve) => server.close(() => resolve()))
	};
}

/** The email address(es) a parsed message was sent to. */
export function recipients(mail: ParsedMail): string[] {
	const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
	return to.flatMap((a) => a.value.map((v) => v.address ?? ''));
}
