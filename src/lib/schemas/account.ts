import { z } from '../zod.ts';
import { crossFieldRule } from './form.ts';
import { checkCreditCode, normalizeCreditCode } from '$lib/validation/credit-code.ts';
import { isEmail, isMobile, normalizeMobile } from '$lib/validation/contact.ts';

const displayName = z.string().trim().min(1, 'error_name_required').max(40, 'error_name_too_long');

/** Either an email address or a mainland mobile number, normalized. */
export const contactField = z
	.string()
	.trim()
	.min(1, 'error_contact_required')
	.transform((value, ctx) => {
		if (isMobile(value)) return { kind: 'phone' as const, value: normalizeMobile(value) };
		if (isEmail(value)) return { kind: 'email' as const, value: value.toLowerCase() };
		ctx.addIssue({
			code: 'custom',
			message: /^[\d\s+-]+$/.test(value) ? 'error_phone_invalid' : 'error_email_invalid'
		});
		return z.NEVER;
	});

const newPassword = z
	.string()
	.min(8, 'error_password_too_short')
	.max(128, 'error_password_too_long');

const creditCode = z
	.string()
	.transform(normalizeCreditCode)
	.superRefine((code, ctx) => {
		if (code === '') return;
		const problem = checkCreditCode(code);
		if (problem) ctx.addIssue({ code: 'custom', message: `error_credit_code_${problem}` });
	})
	.transform((code) => code || null);

const companyFields = {
	companyName: z
		.string()
		.trim()
		.max(100, 'error_company_too_long')
		.transform((v) => v || null),
	creditCode,
	priorityService: z
		.string()
		.optional()
		.transform((v) => v === 'on'),
	priorityReason: z
		.enum(['', 'ELDERLY', 'DISABLED', 'PREGNANT'], { message: 'error_priority_reason' })
		.optional()
		.transform((v) => v || null)
};

/** Priority service needs its category. */
const priorityHasReason = (value: { priorityService?: unknown; priorityReason?: unknown }) =>
	value.priorityService !== true || Boolean(value.priorityReason);

const passwordsMatch = (value: {
	password?: unknown;
	newPassword?: unknown;
	passwordConfirm?: unknown;
}) => (value.password ?? value.newPassword) === value.passwordConfirm;

export const signupSchema = z
	.object({
		displayName,
		contact: contactField,
		password: newPassword,
		passwordConfirm: z.string(),
		...companyFields
	})
	.refine(passwordsMatch, crossFieldRule('passwordConfirm', 'error_password_mismatch'))
	.refine(priorityHasReason, crossFieldRule('priorityReason', 'error_priority_reason'));

export const loginSchema = z.object({
	contact: z.string().trim().min(1, 'error_contact_required'),
	password: z.string().min(1, 'error_password_required')
});

export const profileSchema = z
	.object({ displayName, ...companyFields })
	.refine(priorityHasReason, crossFieldRule('priorityReason', 'error_priority_reason'));

export const passwordChangeSchema = z
	.object({
		currentPassword: z.string().min(1, 'error_password_required'),
		newPassword,
		passwordConfirm: z.string()
	})
	.refine(passwordsMatch, crossFieldRule('passwordConfirm', 'error_password_mismatch'));

export const roleChangeSchema = z.object({
	userId: z.string().uuid('error_generic'),
	role: z.enum(['TAXPAYER', 'INSTRUCTOR', 'STAFF', 'ADMIN'], { message: 'error_generic' })
});

export const emailSettingsSchema = z.object({
	emailReminders: z
		.literal('on')
		.optional()
		.transform((v) => v === 'on'),
	locale: z.enum(['zh-CN', 'en'], { message: 'error_generic' })
});
