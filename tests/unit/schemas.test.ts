import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
	loginSchema,
	passwordChangeSchema,
	profileSchema,
	signupSchema
} from '../../src/lib/schemas/account.ts';
import { parseForm } from '../../src/lib/schemas/form.ts';
import { cancelClassSchema, policyClassSchema } from '../../src/lib/schemas/policy-class.ts';

function form(fields: Record<string, string | string[]>): FormData {
	const data = new FormData();
	for (const [key, value] of Object.entries(fields)) {
		for (const v of Array.isArray(value) ? value : [value]) data.append(key, v);
	}
	return data;
}

/** Field → message key of the first issue per field, or null when the input parses. */
function errorsOf(schema: Parameters<typeof parseForm>[0], fields: Record<string, string>) {
	const result = parseForm(schema, form(fields));
	return result.ok ? null : result.errors;
}

const signup = {
	displayName: '张会计',
	contact: '+86 138 0013 8000',
	password: 'correct horse',
	passwordConfirm: 'correct horse',
	companyName: '福州闽江商贸有限公司',
	creditCode: ' 91350100m000100y43 ',
	priorityReason: ''
};

describe('signupSchema', () => {
	it('parses and normalizes a full sign-up', () => {
		const parsed = signupSchema.parse(signup);
		expect(parsed.contact).toEqual({ kind: 'phone', value: '13800138000' });
		expect(parsed.creditCode).toBe('91350100M000100Y43');
		expect(parsed.companyName).toBe('福州闽江商贸有限公司');
		expect(parsed.priorityService).toBe(false);
		expect(parsed.priorityReason).toBeNull();
	});

	it('lower-cases email contacts and turns empty optional fields into null', () => {
		const parsed = signupSchema.parse({
			...signup,
			contact: '  Zhang.Kuaiji@Example.CN ',
			companyName: '  ',
			creditCode: ''
		});
		expect(parsed.contact).toEqual({ kind: 'email', value: 'zhang.kuaiji@example.cn' });
		expect(parsed.companyName).toBeNull();
		expect(parsed.creditCode).toBeNull();
	});

	it('reports each problem with its message key', () => {
		expect(errorsOf(signupSchema, { ...signup, displayName: '  ' })).toEqual({
			displayName: 'error_name_required'
		});
		expect(errorsOf(signupSchema, { ...signup, displayName: '名'.repeat(41) })?.displayName).toBe(
			'error_name_too_long'
		);
		expect(errorsOf(signupSchema, { ...signup, contact: '' })?.contact).toBe(
			'error_contact_required'
		);
		expect(errorsOf(signupSchema, { ...signup, contact: '138 0013 800' })?.contact).toBe(
			'error_phone_invalid'
		);
		expect(errorsOf(signupSchema, { ...signup, contact: 'zhang@example' })?.contact).toBe(
			'error_email_invalid'
		);
		expect(
			errorsOf(signupSchema, { ...signup, password: 'short', passwordConfirm: 'short' })?.password
		).toBe('error_password_too_short');
		expect(errorsOf(signupSchema, { ...signup, passwordConfirm: 'something else' })).toEqual({
			passwordConfirm: 'error_password_mismatch'
		});
		expect(errorsOf(signupSchema, { ...signup, creditCode: '91350100M000100Y4' })?.creditCode).toBe(
			'error_credit_code_length'
		);
		expect(
			errorsOf(signupSchema, { ...signup, creditCode: '91350100M000100I43' })?.creditCode
		).toBe('error_credit_code_characters');
		expect(
			errorsOf(signupSchema, { ...signup, creditCode: '91350100M000100Y44' })?.creditCode
		).toBe('error_credit_code_check');
	});

	it('requires a reason when priority service is asked for, and drops it otherwise', () => {
		expect(errorsOf(signupSchema, { ...signup, priorityService: 'on' })).toEqual({
			priorityReason: 'error_priority_reason'
		});
		expect(
			errorsOf(signupSchema, { ...signup, priorityService: 'on', priorityReason: 'HUNGRY' })
				?.priorityReason
		).toBe('error_priority_reason');
		const parsed = signupSchema.parse({
			...signup,
			priorityService: 'on',
			priorityReason: 'ELDERLY'
		});
		expect(parsed.priorityService).toBe(true);
		expect(parsed.priorityReason).toBe('ELDERLY');
	});
});

describe('other account schemas', () => {
	it('login needs both fields', () => {
		expect(errorsOf(loginSchema, { contact: ' ', password: '' })).toEqual({
			contact: 'error_contact_required',
			password: 'error_password_required'
		});
	});

	it('profile checks the credit code and priority reason', () => {
		expect(
			errorsOf(profileSchema, {
				displayName: '刘大爷',
				companyName: '',
				creditCode: 'ABC',
				priorityService: 'on'
			})
		).toEqual({ creditCode: 'error_credit_code_length', priorityReason: 'error_priority_reason' });
	});

	it('password change needs matching new passwords', () => {
		expect(
			errorsOf(passwordChangeSchema, {
				currentPassword: 'old password',
				newPassword: 'new password',
				passwordConfirm: 'new passw0rd'
			})
		).toEqual({ passwordConfirm: 'error_password_mismatch' });
	});
});

const instructorId = randomUUID();
const policyClass = {
	title: '增值税留抵退税政策解读',
	summary: '讲解适用条件与申报流程。',
	topics: '增值税，留抵退税、 申报 ,增值税',
	instructorId,
	startsAt: '2026-12-01T14:30',
	durationMinutes: '90',
	format: 'ONLINE',
	location: '',
	capacity: '500',
	registrationOpensAt: '2026-11-20T09:00',
	registrationClosesAt: '2026-12-01T14:00'
};

describe('policyClassSchema', () => {
	it('parses a class, reading times as China Standard Time', () => {
		const parsed = policyClassSchema.parse(policyClass);
		expect(parsed.topics).toEqual(['增值税', '留抵退税', '申报']);
		expect(parsed.startsAt.toISOString()).toBe('2026-12-01T06:30:00.000Z');
		expect(parsed.registrationOpensAt.toISOString()).toBe('2026-11-20T01:00:00.000Z');
		expect(parsed.durationMinutes).toBe(90);
		expect(parsed.capacity).toBe(500);
		expect(parsed.location).toBeNull();
	});

	it('splits topics on full- and half-width commas, 、 and semicolons', () => {
		expect(policyClassSchema.parse({ ...policyClass, topics: 'a,b，c、d;e；f' }).topics).toEqual([
			'a',
			'b',
			'c',
			'd',
			'e',
			'f'
		]);
		expect(errorsOf(policyClassSchema, { ...policyClass, topics: ' ，、 ' })?.topics).toBe(
			'error_topics_required'
		);
		expect(errorsOf(policyClassSchema, { ...policyClass, topics: 'a,b,c,d,e,f,g' })?.topics).toBe(
			'error_topics_too_many'
		);
		expect(errorsOf(policyClassSchema, { ...policyClass, topics: '税'.repeat(21) })?.topics).toBe(
			'error_topic_too_long'
		);
	});

	it('requires a location for in-person and hybrid classes', () => {
		for (const format of ['IN_PERSON', 'HYBRID']) {
			expect(errorsOf(policyClassSchema, { ...policyClass, format, location: '  ' })).toEqual({
				location: 'error_location_required'
			});
			const parsed = policyClassSchema.parse({
				...policyClass,
				format,
				location: ' 五四路 158 号 '
			});
			expect(parsed.location).toBe('五四路 158 号');
		}
	});

	it('requires registration to close after it opens', () => {
		expect(
			errorsOf(policyClassSchema, { ...policyClass, registrationClosesAt: '2026-11-20T09:00' })
		).toEqual({ registrationClosesAt: 'error_closes_before_opens' });
		expect(
			errorsOf(policyClassSchema, { ...policyClass, registrationClosesAt: '2026-11-19T09:00' })
		).toEqual({ registrationClosesAt: 'error_closes_before_opens' });
	});

	it('refuses registration closing after the class has ended, allows it during the class', () => {
		// Class runs 14:30-16:00 CST.
		expect(
			policyClassSchema.safeParse({ ...policyClass, registrationClosesAt: '2026-12-01T16:00' })
				.success
		).toBe(true);
		expect(
			errorsOf(policyClassSchema, { ...policyClass, registrationClosesAt: '2026-12-01T16:01' })
		).toEqual({ registrationClosesAt: 'error_closes_after_class' });
	});

	it('reports bad times, numbers and ids', () => {
		// An empty time must give its own message, not crash the cross-field checks.
		expect(errorsOf(policyClassSchema, { ...policyClass, startsAt: '' })).toEqual({
			startsAt: 'error_starts_at_required'
		});
		expect(
			errorsOf(policyClassSchema, { ...policyClass, registrationClosesAt: '', format: 'HYBRID' })
		).toEqual({
			location: 'error_location_required',
			registrationClosesAt: 'error_closes_at_required'
		});
		expect(
			errorsOf(policyClassSchema, { ...policyClass, startsAt: '2026-02-30T10:00' })?.startsAt
		).toBe('error_datetime_invalid');
		expect(errorsOf(policyClassSchema, { ...policyClass, capacity: '0' })?.capacity).toBe(
			'error_capacity_invalid'
		);
		expect(errorsOf(policyClassSchema, { ...policyClass, capacity: '1.5' })?.capacity).toBe(
			'error_capacity_invalid'
		);
		expect(errorsOf(policyClassSchema, { ...policyClass, capacity: 'many' })?.capacity).toBe(
			'error_capacity_invalid'
		);
		expect(
			errorsOf(policyClassSchema, { ...policyClass, durationMinutes: '5' })?.durationMinutes
		).toBe('error_duration_invalid');
		expect(errorsOf(policyClassSchema, { ...policyClass, format: 'RADIO' })?.format).toBe(
			'error_format_required'
		);
		expect(errorsOf(policyClassSchema, { ...policyClass, instructorId: '' })?.instructorId).toBe(
			'error_instructor_required'
		);
		expect(errorsOf(policyClassSchema, { ...policyClass, title: 'x' })?.title).toBe(
			'error_title_required'
		);
	});

	it('cancel reason is required', () => {
		expect(errorsOf(cancelClassSchema, { reason: ' ' })).toEqual({
			reason: 'error_cancel_reason_required'
		});
	});
});

describe('parseForm', () => {
	it('keeps what was typed, except secrets, when the form fails', () => {
		const result = parseForm(
			signupSchema,
			form({ ...signup, contact: 'not a contact', priorityService: 'on', priorityReason: '' })
		);
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.values).toEqual({
			displayName: '张会计',
			contact: 'not a contact',
			companyName: '福州闽江商贸有限公司',
			creditCode: ' 91350100m000100y43 ',
			priorityService: 'on',
			priorityReason: ''
		});
		expect(result.values).not.toHaveProperty('password');
		expect(result.values).not.toHaveProperty('passwordConfirm');
		// Cross-field rules run even when another field failed: every problem in one round trip.
		expect(result.errors).toEqual({
			contact: 'error_email_invalid',
			priorityReason: 'error_priority_reason'
		});
	});

	it('drops every kind of password field', () => {
		const result = parseForm(
			passwordChangeSchema,
			form({ currentPassword: 'a', newPassword: 'b', passwordConfirm: 'c', other: 'kept' })
		);
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.values).toEqual({ other: 'kept' });
	});

	it('joins repeated fields and ignores files', () => {
		const data = form({ topics: ['增值税', '个税'], title: 'x' });
		data.append('upload', new Blob(['x']), 'a.txt');
		const result = parseForm(policyClassSchema, data);
		expect(result.ok).toBe(false);
		if (!result.ok) {
			expect(result.values).toEqual({ topics: '增值税,个税', title: 'x' });
			expect(result.errors.title).toBe('error_title_required');
		}
	});

	it('returns the parsed data on success', () => {
		const result = parseForm(signupSchema, form(signup));
		expect(result).toMatchObject({ ok: true, data: { displayName: '张会计' } });
	});
});

describe('message keys', () => {
	it('every error key the schemas can produce exists in every language', () => {
		const sources = ['account.ts', 'policy-class.ts'].map((f) =>
			fs.readFileSync(new URL(`../../src/lib/schemas/${f}`, import.meta.url), 'utf8')
		);
		const keys = new Set<string>();
		for (const source of sources) {
			for (const match of source.matchAll(/'(error_[a-z_]+)'/g)) keys.add(match[1]!);
		}
		for (const problem of ['length', 'characters', 'check'])
			keys.add(`error_credit_code_${problem}`);
		expect(keys.size).toBeGreaterThan(20);
		for (const lang of ['zh-CN', 'en']) {
			const messages = JSON.parse(
				fs.readFileSync(new URL(`../../messages/${lang}.json`, import.meta.url), 'utf8')
			) as Record<string, unknown>;
			const missing = [...keys].filter((k) => typeof messages[k] !== 'string');
			expect(missing, lang).toEqual([]);
		}
	});
});
