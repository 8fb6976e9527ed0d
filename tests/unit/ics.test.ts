import { describe, expect, it } from 'vitest';
import { classToIcs } from '../../src/lib/server/ics.ts';

const cls = {
	id: 'c1',
	title: '留抵退税；申报,实操',
	summary: '第一行\r\n第二行\r第三行\nSTATUS:CANCELLED',
	startsAt: new Date('2026-12-01T06:30:00Z'),
	durationMinutes: 90,
	location: null,
	status: 'SCHEDULED',
	updatedAt: new Date('2026-11-27T00:00:00Z')
};

describe('iCalendar export', () => {
	it('escapes every kind of line break, so text cannot add properties', () => {
		const ics = classToIcs(cls, 'https://xuetang.example/classes/c1', 'xuetang.example');
		const lines = ics.split('\r\n');
		// Only the real STATUS line; the summary's text stays inside DESCRIPTION.
		expect(lines.filter((l) => l.startsWith('STATUS:'))).toEqual(['STATUS:CONFIRMED']);
		expect(ics).not.toMatch(/[^\n]\r(?!\n)/);
		const unfolded = ics.replace(/\r\n /g, '');
		expect(unfolded).toContain('DESCRIPTION:第一行\\n第二行\\n第三行\\nSTATUS:CANCELLED\\n');
		expect(unfolded).toContain('SUMMARY:留抵退税；申报\\,实操');
	});
});
