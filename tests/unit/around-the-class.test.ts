import { describe, expect, it } from 'vitest';
import {
	decideAccess,
	may,
	mayDownloadMaterial,
	type AccessFacts
} from '../../src/lib/server/class-access.ts';
import { retryDelay } from '../../src/lib/server/mail/sender.ts';
import { cleanFileName } from '../../src/lib/server/materials.ts';
import { enterLiveShown, noticeShown } from '../../src/lib/reminders.ts';

const startsAt = new Date('2026-12-01T06:00:00Z');
const minutes = (n: number) => new Date(startsAt.getTime() + n * 60_000);
const cls = (status: AccessFacts['cls']['status']) => ({
	id: 'c',
	instructorId: 'teacher',
	status,
	startsAt
});
const access = (
	status: AccessFacts['cls']['status'],
	registration: AccessFacts['registration'],
	role: 'TAXPAYER' | 'STAFF' = 'TAXPAYER'
) => decideAccess({ user: { id: 'u', role }, cls: cls(status), registration });

describe('in-app reminders', () => {
	const timed = (status: string) => ({ status, startsAt, durationMinutes: 60 });
	it('shows the notice from 24 h before, and the live room button from 15 min before', () => {
		expect(noticeShown(timed('SCHEDULED'), minutes(-24 * 60 - 1))).toBe(false);
		expect(noticeShown(timed('SCHEDULED'), minutes(-24 * 60))).toBe(true);
		expect(enterLiveShown(timed('SCHEDULED'), minutes(-16))).toBe(false);
		expect(enterLiveShown(timed('SCHEDULED'), minutes(-15))).toBe(true);
		expect(enterLiveShown(timed('LIVE'), minutes(-60))).toBe(true);
		expect(enterLiveShown(timed('SCHEDULED'), minutes(60))).toBe(false);
		for (const status of ['ENDED', 'CANCELLED']) {
			expect(noticeShown(timed(status), minutes(-5))).toBe(false);
			expect(enterLiveShown(timed(status), minutes(-5))).toBe(false);
		}
	});
});

describe('access around the class', () => {
	it('lets registrants and managers download materials, and anyone a public one', () => {
		const file = { visibility: 'REGISTRANTS' as const };
		const open = { visibility: 'PUBLIC' as const };
		expect(mayDownloadMaterial(access('SCHEDULED', 'CONFIRMED'), file)).toBe(true);
		expect(mayDownloadMaterial(access('ENDED', 'CONFIRMED'), file)).toBe(true);
		expect(mayDownloadMaterial(access('SCHEDULED', 'WAITLISTED'), file)).toBe(false);
		expect(mayDownloadMaterial(access('SCHEDULED', null), file)).toBe(false);
		expect(mayDownloadMaterial(access('SCHEDULED', null, 'STAFF'), file)).toBe(true);
		expect(mayDownloadMaterial(access('SCHEDULED', 'WAITLISTED'), open)).toBe(true);
		expect(
			mayDownloadMaterial(
				decideAccess({ user: null, cls: cls('SCHEDULED'), registration: null }),
				open
			)
		).toBe(true);
		expect(may.manageMaterials(access('SCHEDULED', 'CONFIRMED'))).toBe(false);
		expect(may.manageMaterials(access('SCHEDULED', null, 'STAFF'))).toBe(true);
	});

	it('asks confirmed registrants for the survey, and takes it once the class has ended', () => {
		expect(may.beAskedToRate(access('LIVE', 'CONFIRMED'))).toBe(true);
		expect(may.rate(access('LIVE', 'CONFIRMED'))).toBe(false);
		expect(may.rate(access('ENDED', 'CONFIRMED'))).toBe(true);
		expect(may.rate(access('ENDED', 'WAITLISTED'))).toBe(false);
		expect(may.rate(access('ENDED', null, 'STAFF'))).toBe(false);
		expect(
			may.rate(
				decideAccess({
					user: { id: 'u', role: 'TAXPAYER' },
					cls: cls('ENDED'),
					registration: null,
					recordingVisibility: 'PUBLIC'
				})
			)
		).toBe(false);
	});
});

describe('small rules', () => {
	it('waits longer before each retry of an email', () => {
		const policy = { baseMs: 60_000, maxAttempts: 6 };
		expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n) / 60_000)).toEqual([1, 4, 16, 64, 256]);
	});

	it('keeps a material’s name without folders or control characters', () => {
		expect(cleanFileName('C:\\Users\\会计\\讲义.pdf')).toBe('讲义.pdf');
		expect(cleanFileName('../../etc/passwd\u0000.pdf')).toBe('passwd.pdf');
		const long = `${'税'.repeat(300)}.pptx`;
		expect(cleanFileName(long)).toHaveLength(200);
		expect(cleanFileName(long).endsWith('.pptx')).toBe(true);
	});
});
