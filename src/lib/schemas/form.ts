import { fail } from '@sveltejs/kit';
import type { z } from 'zod';
import type { MessageKey } from '$lib/i18n/message-key.ts';

/**
 * Form parsing shared by every form action. Issue messages are message keys, so
 * errors render in the reader's language; values go back to the form so nothing
 * typed is lost (secrets excepted).
 */
export type FieldErrors = Partial<Record<string, MessageKey>>;

export type FormFailure = { values: Record<string, string>; errors: FieldErrors };

/** The failure a form action returns: the values to put back and what is wrong. */
export function formFailure(
	values: Record<string, string>,
	errors: FieldErrors,
	message?: MessageKey
) {
	return fail(400, { values, errors, message });
}

const SECRET_FIELDS = new Set(['password', 'passwordConfirm', 'currentPassword', 'newPassword']);

export function formValues(formData: FormData): Record<string, string> {
	const values: Record<string, string> = {};
	for (const [key, value] of formData) {
		if (typeof value !== 'string' || SECRET_FIELDS.has(key)) continue;
		values[key] = key in values ? `${values[key]},${value}` : value;
	}
	return values;
}

export function parseForm<S extends z.ZodType>(
	schema: S,
	formData: FormData
): { ok: true; data: z.infer<S> } | ({ ok: false } & FormFailure) {
	const raw: Record<string, string> = {};
	for (const [key, value] of formData) if (typeof value === 'string') raw[key] = value;
	const parsed = schema.safeParse(raw);
	if (parsed.success) return { ok: true, data: parsed.data };
	const errors: FieldErrors = {};
	for (const issue of parsed.error.issues) {
		const field = String(issue.path[0] ?? 'form');
		errors[field] ??= issue.message as MessageKey;
	}
	return { ok: false, values: formValues(formData), errors };
}

/**
 * Options for a cross-field `.refine()` that runs even when other fields failed,
 * so a form shows every problem in one round trip. The value it sees may then be
 * partly unparsed, so rules must only judge fields that did parse.
 */
export function crossFieldRule(field: string, message: MessageKey) {
	return { path: [field], message, when: () => true };
}
