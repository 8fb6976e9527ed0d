import { redirect } from '@sveltejs/kit';
import { getLocale } from '$lib/paraglide/runtime.js';
import { createAccount } from '$lib/server/accounts.ts';
import { safeRedirectTarget } from '$lib/server/auth/guard.ts';
import { browserCareChoice } from '$lib/server/care-mode.ts';
import { startSession } from '$lib/server/auth/sign-in.ts';
import { platform } from '$lib/server/platform.ts';
import { throttled } from '$lib/server/throttle-reply.ts';
import { formFailure, formValues, parseForm, readForm } from '$lib/schemas/form.ts';
import { signupSchema } from '$lib/schemas/account.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
	if (locals.user)
		redirect(303, safeRedirectTarget(url.searchParams.get('redirectTo'), url.origin));
};

export const actions: Actions = {
	default: async ({ request, cookies, url, getClientAddress }) => {
		const formData = await readForm(request);
		const form = parseForm(signupSchema, formData);
		if (!form.ok) return formFailure(form.values, form.errors);
		const { db, throttles, config } = await platform();
		// Counted once the form is valid, so correcting a typo costs nothing.
		const wait = await throttles.signup.take(getClientAddress());
		if (wait) return throttled(wait, formValues(formData));
		const { passwordConfirm: _confirm, ...input } = form.data;
		// A choice made before signing up stays with the new account, and emails
		// are written in the language it was made in.
		const created = await createAccount(db, {
			...input,
			careMode: browserCareChoice(cookies),
			locale: getLocale()
		});
		if (!created.ok) {
			return formFailure(formValues(formData), { contact: 'signup_contact_taken' });
		}
		await startSession(db, created.userId, config.env.SESSION_DAYS, cookies, url);
		redirect(303, safeRedirectTarget(url.searchParams.get('redirectTo'), url.origin));
	}
};
