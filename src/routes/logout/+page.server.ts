import { redirect } from '@sveltejs/kit';
import { clearSessionCookie } from '$lib/server/auth/cookie.ts';
import { invalidateSession } from '$lib/server/auth/session.ts';
import { getDb } from '$lib/server/db/client.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
	default: async ({ locals, cookies }) => {
		if (locals.sessionId) await invalidateSession(await getDb(), locals.sessionId);
		clearSessionCookie(cookies);
		redirect(303, '/');
	}
};
