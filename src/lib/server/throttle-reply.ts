import { fail } from '@sveltejs/kit';
import type { FieldErrors } from '$lib/schemas/form.ts';

/** What a throttled form action returns; `ThrottleNotice` says when to try again. */
export type Throttled = { throttled: { seconds: number } };

/** A 429 for a form action; `values` go back into the form so nothing typed is lost. */
export function throttled(waitMs: number, values: Record<string, string> = {}) {
	const errors: FieldErrors = {};
	return fail(429, {
		throttled: { seconds: Math.max(1, Math.ceil(waitMs / 1000)) },
		values,
		errors
	});
}
