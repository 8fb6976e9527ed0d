import { redirect } from '@sveltejs/kit';
import { z } from 'zod';
import { safeRedirectTarget } from '$lib/server/auth/guard.ts';
import { chooseCareMode } from '$lib/server/care-mode.ts';
import { platform } from '$lib/server/platform.ts';
import { readForm } from '$lib/schemas/form.ts';
import type { Actions, PageServerLoad } from './$types';

const careModeForm = z.object({
	careMode: z.enum(['on', 'off']),
	redirectTo: z.string().default('/')
});

export const load: PageServerLoad = () => redirect(303, '/');

/** The header's 关怀模式 switch: one click, for anyone, signed in or not. */
export const actions: Actions = {
	default: async ({ request, cookies, locals, url }) => {
		const form = careModeForm.safeParse(Object.fromEntries(await readForm(request)));
		if (form.success) {
			await chooseCareMode(
				await platform(),
				locals.user,
				cookies,
				form.data.careMode === 'on',
				url.protocol === 'https:'
			);
		}
		redirect(303, safeRedirectTarget(form.success ? form.data.redirectTo : '/', url.origin));
	}
};
