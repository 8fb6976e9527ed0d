import { redirect } from '@sveltejs/kit';
import { authenticate, contactLookup } from '$lib/server/accounts.ts';
import { safeRedirectTarget } from '$lib/server/auth/guard.ts';
import { startSession } from '$lib/server/auth/sign-in.ts';
import { platform } from '$lib/server/platform.ts';
import { throttled } from '$lib/server/throttle-reply.ts';
import { formFailure, parseForm, readForm } from '$lib/schemas/form.ts';
import { loginSchema } from '$lib/schemas/account.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
	if (locals.user)
		redirect(303, safeRedirectTarget(url.searchParams.get('redirectTo'), url.origin));
};

export const actions: Actions = {
	default: async ({ request, cookies, url, getClientAddress }) => {
		const form = parseForm(loginSchema, await readForm(request));
		if (!form.ok) return formFailure(form.values, form.errors);
		const { db, loginGuard, config } = await platform();
		const lookup = contactLookup(form.data.contact);
		const account = lookup ? Object.values(lookup)[0]! : form.data.contact.trim();
		const address = getClientAddress();
		// Before any password is checked, so a locked-out account learns nothing more.
		const wait = await loginGuard.wait(account, address);
		if (wait) return throttled(wait, { contact: form.data.contact });
		const user = await authenticate(db, form.data.contact, form.data.password);
		if (!user) {
			await loginGuard.failed(account, address);
			return formFailure({ contact: form.data.contact }, {}, 'login_failed');
		}
		await loginGuard.succeeded(account);
		await startSession(db, user.id, config.env.SESSION_DAYS, cookies, url);
		redirect(303, safeRedirectTarget(url.searchParams.get('redirectTo'), url.origin));
	}
};
