import { redirect } from '@sveltejs/kit';
import { createAccount } from '$lib/server/accounts.ts';
import { safeRedirectTarget } from '$lib/server/auth/guard.ts';
import { startSession } from '$lib/server/auth/sign-in.ts';
import { getDb } from '$lib/server/db/client.ts';
import { formFailure, formValues, parseForm } from '$lib/schemas/form.ts';
import { signupSchema } from '$lib/schemas/account.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
	if (locals.user) redirect(303, safeRedirectTarget(url.searchParams.get('redirectTo')));
};

export const actions: Actions = {
	default: async ({ request, cookies, url }) => {
		const formData = await request.formData();
		const form = parseForm(signupSchema, formData);
		if (!form.ok) return formFailure(form.values, form.errors);
		const db = await getDb();
		const { passwordConfirm: _confirm, ...input } = form.data;
		const created = await createAccount(db, input);
		if (!created.ok) {
			return formFailure(formValues(formData), { contact: 'signup_contact_taken' });
		}
		await startSession(db, created.userId, cookies, url);
		redirect(303, safeRedirectTarget(url.searchParams.get('redirectTo')));
	}
};
