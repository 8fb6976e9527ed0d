import { afterEach, describe, expect, it } from 'vitest';
import { formatCst, parseCstDate, parseCstLocal, toCstLocalInput } from '../../src/lib/time.ts';

const originalTz = process.env.TZ;
afterEach(() => {
	if (originalTz === undefined) delete process.env.TZ;
	else process.env.TZ = originalTz;
});

/** Run the same checks under several process time zones (Node re-reads TZ when it is set). */
const zones = ['UTC', 'Asia/Shanghai', 'America/New_York', 'Pacific/Chatham'];

describe('China Standard Time helpers', () => {
	for (const tz of zones) {
		it(`parses and formats as UTC+8 whatever the process zone (TZ=${tz})`, () => {
			process.env.TZ = tz;
			// 2026-03-08 is a US DST switch day; CST has none.
			expect(parseCstLocal('2026-03-08T09:30')?.toISOString()).toBe('2026-03-08T01:30:00.000Z');
			expect(parseCstLocal('2026-11-01T00:15:45')?.toISOString()).toBe('2026-10-31T16:15:45.000Z');
			expect(parseCstDate('2026-01-01')?.toISOString()).toBe('2025-12-31T16:00:00.000Z');
			expect(toCstLocalInput(new Date('2026-03-08T01:30:00Z'))).toBe('2026-03-08T09:30');
			expect(toCstLocalInput(new Date('2025-12-31T16:00:00Z'))).toBe('2026-01-01T00:00');
			expect(toCstLocalInput(new Date('2026-06-30T23:59:59.999Z'))).toBe('2026-07-01T07:59');
		});
	}

	it('round-trips datetime-local values', () => {
		process.env.TZ = 'America/New_York';
		for (const value of [
			'2026-01-01T00:00',
			'2026-02-28T23:59',
			'2028-02-29T12:00',
			'2026-12-31T23:30'
		]) {
			const date = parseCstLocal(value);
			expect(date).not.toBeNull();
			expect(toCstLocalInput(date!)).toBe(value);
		}
		// And instants at whole minutes round-trip the other way.
		const instant = new Date(Date.UTC(2026, 6, 15, 18, 45));
		expect(parseCstLocal(toCstLocalInput(instant))?.getTime()).toBe(instant.getTime());
	});

	it('rejects malformed or impossible values', () => {
		for (const value of [
			'',
			'2026-03-08',
			'2026-03-08 09:30',
			'2026-03-08T9:30',
			'2026-03-08T09:30Z',
			'2026-03-08T09:30+08:00',
			'2026-13-01T10:00',
			'2026-02-30T10:00', // no such day: must not roll over to March
			'2026-02-29T10:00', // 2026 is not a leap year
			'2026-04-31T10:00',
			'2026-03-08T24:30'
		]) {
			expect(parseCstLocal(value), value).toBeNull();
		}
		expect(parseCstDate('2026-03-08T00:00')).toBeNull();
		expect(parseCstDate('2026-02-30')).toBeNull();
	});

	it('formats in Asia/Shanghai', () => {
		process.env.TZ = 'America/New_York';
		const instant = new Date('2026-03-08T01:30:00Z');
		expect(formatCst(instant, 'en-US', 'time')).toBe('09:30');
		expect(formatCst(instant, 'zh-CN', 'date')).toContain('2026年3月8日');
	});
});
