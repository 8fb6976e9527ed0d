import type { ParsedMail } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClassLifecycle } from '../../src/lib/server/class-lifecycle.ts';
import { classDetails } from '../../src/lib/server/classes.ts';
import type { Db } from '../../src/lib/server/db/client.ts';
import { EventBus } from '../../src/lib/server/events.ts';
import { ClassEmails } from '../../src/lib/server/mail/class-emails.ts';
import { Registrations } from '../../src/lib/server/registration.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUser } from '../support/fixtures.ts';
import { recipients, startSmtp, type TestSmtp } from '../support/smtp.ts';

/**
 * Class emails end to end against a real SMTP server (smtp-server on a local
 * port): events → outbox rows in the real database → nodemailer → SMTP. Each
 * test makes its own class and users; the outbox is shared, so assertions
 * look at that class's jobs and that user's messages only.
 */

let t: TestDatabase;
let db: Db;
let smtp: TestSmtp;
const running: ClassEmails[] = [];
const SITE = { origin: 'http://xuetang.test', from: '纳税人学堂 <noreply@xuetang.test>' };
const HOUR = 3600_000;

beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
	smtp = await startSmtp();
});
afterEach(async () => {
	await Promise.all(running.splice(0).map((e) => e.stop()));
});
afterAll(async () => {
	await smtp?.close();
	await t?.close();
});

/** The app's wiring, as one process has it: bus, registrations, lifecycle, class emails. */
function app(options: { transport?: 'smtp' | 'none'; retryBaseMs?: number } = {}) {
	const events = EventBus.local();
	const registrations = new Registrations(db, events);
	const lifecycle = new ClassLifecycle(db, events, registrations);
	const emails = new ClassEmails(db, events, {
		site: SITE,
		transport: options.transport === 'none' ? null : ClassEmails.transportFor(smtp.url),
		retry: { baseMs: options.retryBaseMs ?? 200, maxAttempts: 3 },
		maxSleepMs: 500
	});
	emails.start();
	running.push(emails);
	return { events, registrations, lifecycle, emails };
}

async function learner(locale: 'zh-CN' | 'en' = 'zh-CN') {
	const user = await makeUser(db, 'TAXPAYER', locale === 'en' ? 'Li Na' : '李娜');
	return db.user.update({ where: { id: user.id }, data: { locale } });
}

const to = (email: string | null) => (mail: ParsedMail) => recipients(mail).includes(email ?? '');
const mailsTo = (email: string | null) => smtp.messages.filter(to(email));

/** Resolves once no job of the class is pending (all sent, skipped, failed or dropped). */
async function outboxSettled(classId: string, timeoutMs = 30_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const pending = await db.mailJob.count({
			where: { classId, status: 'PENDING', runAt: { lte: new Date() } }
		});
		if (pending === 0) return;
		if (Date.now() > deadline) throw new Error('outbox did not settle');
		await new Promise((r) => setTimeout(r, 100));
	}
}

function calendarOf(mail: ParsedMail): string {
	const ics = mail.attachments.find((a) => a.filename === 'class.ics');
	return ics ? ics.content.toString('utf8') : '';
}

describe('class emails', () => {
	it('a registration is confirmed once, in the user’s language, with the .ics', async () => {
		const { registrations } = app();
		const cls = await makeClass(db, { title: '个税汇算清缴实务' });
		const en = await learner('en');
		const zh = await learner('zh-CN');
		await registrations.register(cls.id, en.id);
		await registrations.register(cls.id, zh.id);
		const english = await smtp.waitFor(to(en.email));
		const chinese = await smtp.waitFor(to(zh.email));
		await outboxSettled(cls.id);
		expect(english.subject).toBe('You are registered: 个税汇算清缴实务');
		expect(english.text).toContain('Dear Li Na,');
		expect(chinese.subject).toBe('报名成功：个税汇算清缴实务');
		expect(chinese.text).toContain('李娜，您好');
		expect(chinese.text).toContain(`${SITE.origin}/classes/${cls.id}`);
		expect(calendarOf(chinese)).toContain('SUMMARY:个税汇算清缴实务');
		expect(chinese.messageId).toMatch(/@xuetang\.test>$/);
		expect(mailsTo(en.email)).toHaveLength(1);
		expect(mailsTo(zh.email)).toHaveLength(1);
		// The two reminders wait for their time: a week ahead, 24 h and 1 h before.
		const jobs = await db.mailJob.findMany({ where: { classId: cls.id, userId: zh.id } });
		expect(jobs.map((j) => `${j.kind}:${j.status}`).sort()).toEqual([
			'REGISTERED:SENT',
			'REMINDER_1H:PENDING',
			'REMINDER_24H:PENDING'
		]);
		const reminder = jobs.find((j) => j.kind === 'REMINDER_1H')!;
		expect(reminder.runAt.getTime()).toBe(cls.startsAt.getTime() - HOUR);
	});

	it('the 1 h reminder arrives exactly once across a restart between scheduling and sending', async () => {
		const first = app();
		// Due a few seconds from now: the reminder is scheduled, then the app restarts.
		const cls = await makeClass(db, {
			title: '小微企业所得税优惠',
			startsAt: new Date(Date.now() + HOUR + 4000)
		});
		const user = await learner();
		await first.registrations.register(cls.id, user.id);
		await smtp.waitFor((m) => to(user.email)(m) && m.subject!.startsWith('报名成功'));
		await first.emails.stop();
		const pending = await db.mailJob.findFirstOrThrow({
			where: { classId: cls.id, kind: 'REMINDER_1H' }
		});
		expect(pending.status).toBe('PENDING');

		// A new process: a new bus and a new sender over the same database.
		app();
		const reminder = await smtp.waitFor(
			(m) => to(user.email)(m) && m.subject === '1 小时后开课：小微企业所得税优惠'
		);
		await outboxSettled(cls.id);
		expect(reminder.text).toContain('小微企业所得税优惠');
		expect(mailsTo(user.email).map((m) => m.subject)).toEqual([
			'报名成功：小微企业所得税优惠',
			'1 小时后开课：小微企业所得税优惠'
		]);
		const job = await db.mailJob.findUniqueOrThrow({ where: { id: pending.id } });
		expect(job.status).toBe('SENT');
		expect(job.attempts).toBe(1);
	});

	it('a reschedule sends at the new times only', async () => {
		const { registrations, lifecycle } = app();
		const staff = await makeUser(db, 'STAFF', '办税服务厅');
		const oldStart = new Date(Date.now() + HOUR + 3000);
		const cls = await makeClass(db, { title: '留抵退税新政', startsAt: oldStart });
		const user = await learner();
		await registrations.register(cls.id, user.id);
		await smtp.waitFor((m) => to(user.email)(m) && m.subject!.startsWith('报名成功'));

		// Moved later, before the old 1 h reminder fell due.
		const newStart = new Date(oldStart.getTime() + 6000);
		const current = await db.policyClass.findUniqueOrThrow({ where: { id: cls.id } });
		const details = classDetails({ ...current, startsAt: newStart });
		expect(await lifecycle.edit(cls.id, staff, details, current.capacity)).toEqual({ ok: true });

		const notice = await smtp.waitFor(
			(m) => to(user.email)(m) && m.subject === '调课通知：留抵退税新政'
		);
		expect(calendarOf(notice)).toContain(
			`DTSTART:${newStart
				.toISOString()
				.replace(/[-:]/g, '')
				.replace(/\.\d{3}/, '')}`
		);
		const reminder = await smtp.waitFor(
			(m) => to(user.email)(m) && m.subject === '1 小时后开课：留抵退税新政'
		);
		await outboxSettled(cls.id);
		expect(reminder.date!.getTime()).toBeGreaterThanOrEqual(newStart.getTime() - HOUR - 1000);
		expect(mailsTo(user.email).map((m) => m.subject)).toEqual([
			'报名成功：留抵退税新政',
			'调课通知：留抵退税新政',
			'1 小时后开课：留抵退税新政'
		]);
		const reminders = await db.mailJob.findMany({
			where: { classId: cls.id, kind: 'REMINDER_1H' },
			orderBy: { runAt: 'asc' }
		});
		expect(reminders.map((r) => [r.status, r.runAt.getTime()])).toEqual([
			['CANCELLED', oldStart.getTime() - HOUR],
			['SENT', newStart.getTime() - HOUR]
		]);
	});

	it('cancelling tells every registrant and drops their reminders', async () => {
		const { registrations, lifecycle } = app();
		const staff = await makeUser(db, 'STAFF');
		const cls = await makeClass(db, { title: '房产税申报', capacity: 1 });
		const [a, b] = [await learner(), await learner('en')];
		await registrations.register(cls.id, a.id);
		await registrations.register(cls.id, b.id);
		await smtp.waitFor(to(b.email));
		expect(mailsTo(b.email)[0]!.subject).toBe('You are on the waitlist: 房产税申报');
		await lifecycle.cancel(cls.id, staff, '讲师临时出差');
		const [ca, cb] = await Promise.all([
			smtp.waitFor((m) => to(a.email)(m) && m.subject === '课程取消：房产税申报'),
			smtp.waitFor((m) => to(b.email)(m) && m.subject === 'Cancelled: 房产税申报')
		]);
		await outboxSettled(cls.id);
		expect(ca.text).toContain('讲师临时出差');
		expect(calendarOf(cb)).toContain('STATUS:CANCELLED');
		const left = await db.mailJob.groupBy({
			by: ['kind', 'status'],
			where: { classId: cls.id, kind: { in: ['REMINDER_24H', 'REMINDER_1H'] } },
			_count: { _all: true }
		});
		expect(left.map((g) => g.status)).toEqual(['CANCELLED', 'CANCELLED']);
	});

	it('the replay-ready email asks for the survey, once per registrant', async () => {
		const { registrations, events } = app();
		const cls = await makeClass(db, { title: '发票电子化' });
		const user = await learner();
		await registrations.register(cls.id, user.id);
		await smtp.waitFor(to(user.email));
		await db.policyClass.update({ where: { id: cls.id }, data: { status: 'ENDED' } });
		const ready = { classId: cls.id, recordingId: cls.id, readyAt: new Date().toISOString() };
		await events.publish('recording.ready', ready);
		// A second part of the same class becoming ready is the same replay.
		await events.publish('recording.ready', ready);
		const mail = await smtp.waitFor((m) => to(user.email)(m) && m.subject!.startsWith('回放'));
		await outboxSettled(cls.id);
		expect(mail.text).toContain(`${SITE.origin}/classes/${cls.id}/survey`);
		expect(mail.attachments).toHaveLength(0);
		expect(mailsTo(user.email).filter((m) => m.subject!.startsWith('回放'))).toHaveLength(1);
	});

	it('retries a temporary refusal with backoff, and shows staff a permanent one', async () => {
		const { registrations, emails } = app({ retryBaseMs: 300 });
		const cls = await makeClass(db, { title: '印花税' });
		const user = await learner();
		smtp.refuse(451, 1);
		const refusedBefore = smtp.refused();
		await registrations.register(cls.id, user.id);
		const mail = await smtp.waitFor(to(user.email));
		await outboxSettled(cls.id);
		expect(mail.subject).toBe('报名成功：印花税');
		expect(smtp.refused()).toBe(refusedBefore + 1);
		const sent = await db.mailJob.findFirstOrThrow({
			where: { classId: cls.id, kind: 'REGISTERED' }
		});
		expect(sent).toMatchObject({ status: 'SENT', attempts: 2 });

		const other = await learner();
		smtp.refuse(550, 1);
		await registrations.register(cls.id, other.id);
		await outboxSettled(cls.id);
		const failed = await db.mailJob.findFirstOrThrow({
			where: { classId: cls.id, userId: other.id, kind: 'REGISTERED' }
		});
		expect(failed.status).toBe('FAILED');
		expect(failed.lastError).toContain('550');
		const troubled = await emails.outbox.listTroubled();
		expect(troubled.some((j) => j.id === failed.id)).toBe(true);
		expect(await emails.outbox.retry(failed.id)).toBe(true);
		emails.sender.wake();
		await smtp.waitFor(to(other.email));
		expect(mailsTo(other.email)).toHaveLength(1);
	});

	it('skips users who switched emails off; without SMTP, keeps the jobs unsent', async () => {
		const { registrations } = app({ transport: 'none' });
		const cls = await makeClass(db, { title: '社保费申报' });
		const user = await learner();
		await registrations.register(cls.id, user.id);
		const job = await db.mailJob.findFirstOrThrow({
			where: { classId: cls.id, kind: 'REGISTERED' }
		});
		expect(job).toMatchObject({ status: 'PENDING', attempts: 0 });

		await Promise.all(running.splice(0).map((e) => e.stop()));
		await db.user.update({ where: { id: user.id }, data: { emailReminders: false } });
		app();
		await outboxSettled(cls.id);
		const skipped = await db.mailJob.findUniqueOrThrow({ where: { id: job.id } });
		expect(skipped).toMatchObject({ status: 'SKIPPED', lastError: 'opted_out' });
		expect(mailsTo(user.email)).toHaveLength(0);
	});
});
