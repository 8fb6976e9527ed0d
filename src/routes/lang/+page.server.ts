import { redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { cookieName, cookieMaxAge, locales } from '$lib/paraglide/runtime.js';
import { safeRedirectTarget } from '$lib/server/auth/guard.ts';
import type { Actions, PageServerLoad } from './$types';
import { readForm } from '$lib/schemas/form.ts';

const languageForm = z.object({ locale: z.enum(locales), redirectTo: z.string().default('/') });

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
	default: async ({ request, cookies, url }) => {
		const form = languageForm.safeParse(Object.fromEntries(await readForm(request)));
		if (form.success) {
			cookies.set(cookieName, form.data.locale, {
				path: '/',
				maxAge: cookieMaxAge,
				httpOnly: false,
				sameSite: 'lax'
			});
		}
		redirect(303, safeRedirectTarget(form.success ? form.data.redirectTo : '/', url.origin));
	}
};
