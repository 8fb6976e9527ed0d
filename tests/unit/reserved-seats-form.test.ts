import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { m } from '../../src/lib/paraglide/messages.js';
import type { SessionUser } from '../../src/lib/server/auth/session.ts';
import { classFormValues, parseClassForm } from '../../src/lib/server/class-form.ts';
import { reservedSeatsOpen } from '../../src/lib/server/registration.ts';

/** The 爱心专座 fields of the manage-class form, as the new and edit actions parse them. */
const staff: SessionUser = {
	id: randomUUID(),
	role: 'STAFF',
	displayName: '办税服务厅',
	email: 'staff@example.cn',
	phone: null,
	priorityService: false,
	careMode: null
};

const fields = {
	title: '增值税留抵退税政策解读',
	summary: '讲解适用条件与申报流程。',
	topics: '增值税',
	instructorId: randomUUID(),
	startsAt: '2026-12-10T14:30',
	durationMinutes: '90',
	format: 'ONLINE',
	location: '',
	capacity: '50',
	registrationOpensAt: '2026-12-01T09:00',
	registrationClosesAt: '2026-12-10T14:00',
	reservedSeats: '10',
	reservedReleaseAt: ''
};

function form(values: Record<string, string>): FormData {
	const data = new FormData();
	for (const [key, value] of Object.entries(values)) data.append(key, value);
	return data;
}

describe('the reserved seats fields', () => {
	it('refuse more reserved seats than the capacity, with a message, keeping what was typed', () => {
		const result = parseClassForm(form({ ...fields, reservedSeats: '60' }), staff);
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.errors).toEqual({ reservedSeats: 'error_reserved_seats_over_capacity' });
		expect(result.values).toMatchObject({ ...fields, reservedSeats: '60' });
		expect(m.error_reserved_seats_over_capacity({}, { locale: 'zh-CN' })).toBe(
			'爱心专座数量不能超过名额。'
		);
		expect(m.error_reserved_seats_over_capacity({}, { locale: 'en' })).toBe(
			'Priority seats cannot be more than the capacity.'
		);
	});

	it('refuse a count that is not a whole number and a release after the start', () => {
		for (const reservedSeats of ['-1', '2.5', '十']) {
			const result = parseClassForm(form({ ...fields, reservedSeats }), staff);
			expect(result.ok ? null : result.errors).toEqual({
				reservedSeats: 'error_reserved_seats_invalid'
			});
		}
		const late = parseClassForm(form({ ...fields, reservedReleaseAt: '2026-12-10T14:31' }), staff);
		expect(late.ok ? null : late.errors).toEqual({
			reservedReleaseAt: 'error_reserved_release_after_start'
		});
		const broken = parseClassForm(
			form({ ...fields, reservedReleaseAt: '2026-02-30T10:00' }),
			staff
		);
		expect(broken.ok ? null : broken.errors).toEqual({
			reservedReleaseAt: 'error_datetime_invalid'
		});
	});

	it('read the release time as China Standard Time; empty means 24 h before the start', () => {
		const set = parseClassForm(form({ ...fields, reservedReleaseAt: '2026-12-09T20:00' }), staff);
		expect(set.ok && set.data.reservedReleaseAt?.toISOString()).toBe('2026-12-09T12:00:00.000Z');
		const byDefault = parseClassForm(form(fields), staff);
		if (!byDefault.ok) throw new Error('the form should parse');
		expect(byDefault.data).toMatchObject({ reservedSeats: 10, reservedReleaseAt: null });
		const held = reservedSeatsOpen(
			{ ...byDefault.data, confirmedCount: 0, reservedConfirmedCount: 0, reservedReleasedAt: null },
			new Date('2026-12-09T06:29:00Z')
		);
		expect(held).toEqual({ left: 10, releaseAt: new Date('2026-12-09T06:30:00Z') });
		// A form posted without the fields (an older page) reserves nothing.
		const { reservedSeats: _seats, reservedReleaseAt: _at, ...older } = fields;
		const without = parseClassForm(form(older), staff);
		expect(without.ok && without.data).toMatchObject({ reservedSeats: 0, reservedReleaseAt: null });
	});

	it('show a saved class as it was entered', () => {
		const parsed = parseClassForm(
			form({ ...fields, reservedReleaseAt: '2026-12-09T20:00' }),
			staff
		);
		if (!parsed.ok) throw new Error('the form should parse');
		const values = classFormValues(parsed.data);
		expect(values).toMatchObject({ reservedSeats: '10', reservedReleaseAt: '2026-12-09T20:00' });
		expect(classFormValues({ ...parsed.data, reservedReleaseAt: null }).reservedReleaseAt).toBe('');
	});
});
