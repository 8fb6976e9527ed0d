import { describe, expect, it } from 'vitest';
import { registrationWindowRefusal } from '../../src/lib/server/registration.ts';

const opensAt = new Date('2026-11-20T01:00:00Z');
const closesAt = new Date('2026-12-01T06:00:00Z');
const cls = (status: 'SCHEDULED' | 'LIVE' | 'ENDED' | 'CANCELLED') => ({
	status,
	opensAt,
	closesAt
});

describe('registrationWindowRefusal', () => {
	it('takes registrations from the opening instant up to, not including, the closing one', () => {
		expect(registrationWindowRefusal(cls('SCHEDULED'), opensAt)).toBeNull();
		expect(
			registrationWindowRefusal(cls('SCHEDULED'), new Date(closesAt.getTime() - 1))
		).toBeNull();
		expect(registrationWindowRefusal(cls('LIVE'), new Date(closesAt.getTime() - 1))).toBeNull();
	});

	it('refuses before opening and from closing on', () => {
		expect(registrationWindowRefusal(cls('SCHEDULED'), new Date(opensAt.getTime() - 1))).toBe(
			'not_open_yet'
		);
		expect(registrationWindowRefusal(cls('SCHEDULED'), closesAt)).toBe('registration_closed');
		expect(registrationWindowRefusal(cls('LIVE'), new Date(closesAt.getTime() + 1))).toBe(
			'registration_closed'
		);
	});

	it('refuses cancelled and ended classes whatever the time', () => {
		for (const now of [new Date(opensAt.getTime() - 1), opensAt, closesAt]) {
			expect(registrationWindowRefusal(cls('CANCELLED'), now)).toBe('class_cancelled');
			expect(registrationWindowRefusal(cls('ENDED'), now)).toBe('class_ended');
		}
	});
});
