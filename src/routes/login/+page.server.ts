import { redirect } from '@sveltejs/kit';
import { authenticate } from '$lib/server/accounts.ts';
import { safeRedirectTarget } from '$lib/server/auth/guard.ts';
import { startSession } from '$lib/server/auth/sign-in.ts';
import { getDb } from '$lib/server/db/client.ts';
import { formFailure, parseForm } from '$lib/schemas/form.ts';
import { loginSchema } from '$lib/schemas/account.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
	if (locals.user) redirect(303, safeRedirectTarget(url.searchParams.get('redirectTo')));
};

export const actions: Actions = {
	default: async ({ request, cookies, url }) => {
		const form = parseForm(loginSchema, await request.formData());
		if (!form.ok) return formFailure(form.values, form.errors);
		const db = await getDb();
		const user = await authenticate(db, form.data.contact, form.data.password);
		if (!user) {
			return formFailure({ contact: form.data.contact }, {}, 'login_failed');
		}
		await startSession(db, user.id, cookies, url);
		redirect(303, safeRedirectTarget(url.searchParams.get('redirectTo')));
	}
};
