import { error, fail } from '@sveltejs/kit';
import type { z } from '../zod.ts';
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

/**
 * The posted form. A body that is not a form (JSON, a broken multipart
 * boundary, random bytes) is the client's mistake: 400 with a message, not a
 * server error.
 */
export async function readForm(request: Request): Promise<FormData> {
	try {
		return await request.formData();
	} catch {
		error(400, { message: 'error_form_unreadable' });
	}
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

/**
 * NUL cannot be typed, and PostgreSQL text cannot hold it: it is dropped from
 * everything that comes in, so it never turns into a database error.
 */
export function withoutNul(value: string): string {
	return value.includes('\0') ? value.replaceAll('\0', '') : value;
}

export function parseForm<S extends z.ZodType>(
	schema: S,
	formData: FormData
): { ok: true; data: z.infer<S> } | ({ ok: false } & FormFailure) {
	const raw: Record<string, string> = {};
	for (const [key, value] of formData) if (typeof value === 'string') raw[key] = withoutNul(value);
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
