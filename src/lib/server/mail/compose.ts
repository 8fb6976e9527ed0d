import { m } from '$lib/paraglide/messages.js';
import { formatCst } from '$lib/time.ts';
import type { Db } from '../db/client.ts';
import type { MailKind } from '../db/generated/enums.ts';
import { escapeHtml } from '../html.ts';
import { classToIcs } from '../ics.ts';
import type { ClaimedJob } from './outbox.ts';

/**
 * What one outbox job sends, written when it is sent: from the class and the
 * user as they are then, in the user's language. A job that no longer
 * applies (the registration was cancelled, the class moved again, the user
 * switched emails off) is skipped with the reason.
 */

export type Site = { origin: string; from: string };

export type ComposedMail = {
	to: string;
	subject: string;
	text: string;
	html: string;
	ics?: { filename: string; content: string };
};

export type Composition = { send: ComposedMail } | { skip: string };

type Locale = 'zh-CN' | 'en';

const locales: readonly string[] = ['zh-CN', 'en'];

/** Reminders and notices about a start time say nothing once the class has started. */
const ABOUT_THE_START: readonly MailKind[] = ['REMINDER_24H', 'REMINDER_1H', 'RESCHEDULED'];
const WITH_CALENDAR: readonly MailKind[] = [
	'REGISTERED',
	'PROMOTED',
	'REMINDER_24H',
	'RESCHEDULED',
	'CANCELLED'
];

/** Paragraphs of text, with their links made clickable in the HTML part. */
function toHtml(paragraphs: string[]): string {
	const body = paragraphs
		.map((p) => {
			const linked = escapeHtml(p).replace(
				/https?:\/\/[^\s<]+/g,
				(url) => `<a href="${url}">${url}</a>`
			);
			return `<p>${linked.replaceAll('\n', '<br>')}</p>`;
		})
		.join('\n');
	return `<!doctype html><html><body style="font-family: sans-serif; line-height: 1.6">${body}</body></html>`;
}

export async function composeMail(
	db: Db,
	job: ClaimedJob,
	site: Site,
	now = new Date()
): Promise<Composition> {
	const [user, cls, registration] = await Promise.all([
		db.user.findUnique({
			where: { id: job.userId },
			select: {
				displayName: true,
				email: true,
				emailReminders: true,
				locale: true,
				disabledAt: true
			}
		}),
		db.policyClass.findUnique({
			where: { id: job.classId },
			select: {
				id: true,
				title: true,
				summary: true,
				startsAt: true,
				durationMinutes: true,
				location: true,
				status: true,
				cancelReason: true,
				updatedAt: true
			}
		}),
		db.registration.findFirst({
			where: { classId: job.classId, userId: job.userId, status: { not: 'CANCELLED' } },
			select: { status: true, seq: true }
		})
	]);
	if (!user || !cls) return { skip: 'gone' };
	if (user.disabledAt) return { skip: 'account_disabled' };
	if (!user.email) return { skip: 'no_email' };
	if (!user.emailReminders) return { skip: 'opted_out' };
	if (!registration) return { skip: 'not_registered' };
	const confirmed = registration.status === 'CONFIRMED';
	const open = cls.status === 'SCHEDULED' || cls.status === 'LIVE';
	if (ABOUT_THE_START.includes(job.kind)) {
		if (cls.status !== 'SCHEDULED' || now >= cls.startsAt) return { skip: 'class_started' };
		if (job.startsAt && job.startsAt.getTime() !== cls.startsAt.getTime()) {
			return { skip: 'moved_again' };
		}
	}
	const applies: Record<MailKind, boolean> = {
		REGISTERED: open,
		PROMOTED: open && confirmed,
		REMINDER_24H: confirmed,
		REMINDER_1H: confirmed,
		RESCHEDULED: true,
		CANCELLED: cls.status === 'CANCELLED',
		REPLAY_READY: confirmed && cls.status === 'ENDED'
	};
	if (!applies[job.kind]) return { skip: 'no_longer_applies' };

	const locale: Locale = locales.includes(user.locale) ? (user.locale as Locale) : 'zh-CN';
	const o = { locale };
	const classUrl = `${site.origin}/classes/${cls.id}`;
	const time = formatCst(cls.startsAt, locale);
	const title = cls.title;
	let subject: string;
	const lines: string[] = [m.mail_greeting({ name: user.displayName }, o)];
	switch (job.kind) {
		case 'REGISTERED':
			if (confirmed) {
				subject = m.mail_registered_subject({ title }, o);
				lines.push(m.mail_registered_body({ title, time }, o));
			} else {
				const position =
					(await db.registration.count({
						where: { classId: cls.id, status: 'WAITLISTED', seq: { lt: registration.seq } }
					})) + 1;
				subject = m.mail_waitlisted_subject({ title }, o);
				lines.push(m.mail_waitlisted_body({ title, position }, o));
			}
			break;
		case 'PROMOTED':
			subject = m.mail_promoted_subject({ title }, o);
			lines.push(m.mail_promoted_body({ title, time }, o));
			break;
		case 'REMINDER_24H':
			subject = m.mail_reminder_24h_subject({ title }, o);
			lines.push(m.mail_reminder_body({ title, time }, o));
			break;
		case 'REMINDER_1H':
			subject = m.mail_reminder_1h_subject({ title }, o);
			lines.push(m.mail_reminder_body({ title, time }, o));
			break;
		case 'RESCHEDULED':
			subject = m.mail_rescheduled_subject({ title }, o);
			lines.push(m.mail_rescheduled_body({ title, time }, o));
			break;
		case 'CANCELLED':
			subject = m.mail_cancelled_subject({ title }, o);
			lines.push(m.mail_cancelled_body({ title, time }, o));
			if (cls.cancelReason) lines.push(m.class_cancel_reason({ reason: cls.cancelReason }, o));
			break;
		case 'REPLAY_READY':
			subject = m.mail_replay_subject({ title }, o);
			lines.push(m.mail_replay_body({ title, url: `${classUrl}/replay` }, o));
			lines.push(m.mail_survey_invite({ url: `${classUrl}/survey` }, o));
			break;
	}
	lines.push(m.mail_class_link({ url: classUrl }, o));
	lines.push(m.mail_footer({ url: `${site.origin}/account` }, o));
	const text = lines.join('\n\n') + '\n';
	const host = new URL(site.origin).host;
	return {
		send: {
			to: user.email,
			subject,
			text,
			html: toHtml(lines),
			...(WITH_CALENDAR.includes(job.kind)
				? { ics: { filename: 'class.ics', content: classToIcs(cls, classUrl, host) } }
				: {})
		}
	};
}
