import { fail } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard.ts';
import { invalidateAllSessions } from '$lib/server/auth/session.ts';
import { startSession } from '$lib/server/auth/sign-in.ts';
import {
	changePassword,
	getProfile,
	updateEmailSettings,
	updateProfile
} from '$lib/server/accounts.ts';
import { getDb, platform } from '$lib/server/platform.ts';
import { parseForm, readForm } from '$lib/schemas/form.ts';
import { emailSettingsSchema, passwordChangeSchema, profileSchema } from '$lib/schemas/account.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const user = requireUser(locals, url);
	const profile = await getProfile(await getDb(), user.id);
	return {
		contact: profile.phone ?? profile.email ?? '',
		values: {
			displayName: profile.displayName,
			companyName: profile.companyName ?? '',
			creditCode: profile.creditCode ?? '',
			priorityService: profile.priorityService ? 'on' : '',
			priorityReason: profile.priorityReason ?? ''
		},
		email: {
			address: profile.email,
			reminders: profile.emailReminders,
			locale: profile.locale
		}
	};
};

export const actions: Actions = {
	email: async ({ request, locals, url }) => {
		const user = requireUser(locals, url);
		const form = parseForm(emailSettingsSchema, await readForm(request));
		if (!form.ok) return fail(400, { emailError: 'error_generic' as const });
		await updateEmailSettings(await getDb(), user.id, form.data);
		return { emailSaved: true };
	},
	profile: async ({ request, locals, url }) => {
		const user = requireUser(locals, url);
		const form = parseForm(profileSchema, await readForm(request));
		if (!form.ok) return fail(400, { profile: { values: form.values, errors: form.errors } });
		const { db, events } = await platform();
		await updateProfile(db, user.id, form.data);
		// The header shows the name and 爱心通道 badge from the (briefly kept) session.
		await events.publish('user.changed', { userId: user.id, reason: 'profile' });
		return { profileSaved: true };
	},
	password: async ({ request, locals, url, cookies }) => {
		const user = requireUser(locals, url);
		const form = parseForm(passwordChangeSchema, await readForm(request));
		if (!form.ok) return fail(400, { password: { errors: form.errors } });
		const { db, events, config } = await platform();
		const changed = await changePassword(
			db,
			user.id,
			form.data.currentPassword,
			form.data.newPassword
		);
		if (!changed) {
			return fail(400, {
				password: { errors: { currentPassword: 'error_current_password_wrong' as const } }
			});
		}
		// Sign out everywhere (a stolen session dies with the old password), then
		// keep this browser signed in with a fresh session.
		await invalidateAllSessions(db, user.id);
		const keep = await startSession(db, user.id, config.env.SESSION_DAYS, cookies, url);
		await events.publish('sessions.revoked', {
			userId: user.id,
			sessionIds: null,
			keep,
			reason: 'password_changed'
		});
		return { passwordChanged: true };
	}
};
