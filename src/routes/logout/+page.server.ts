import { redirect } from '@sveltejs/kit';
import { clearSessionCookie } from '$lib/server/auth/cookie.ts';
import { invalidateSession } from '$lib/server/auth/session.ts';
import { platform } from '$lib/server/platform.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
	default: async ({ locals, cookies }) => {
		if (locals.sessionId && locals.user) {
			const { db, events } = await platform();
			await invalidateSession(db, locals.sessionId);
			// This browser's open Q&A and player connections end with its session.
			await events.publish('sessions.revoked', {
				userId: locals.user.id,
				sessionIds: [locals.sessionId],
				reason: 'logout'
			});
		}
		clearSessionCookie(cookies);
		redirect(303, '/');
	}
};
