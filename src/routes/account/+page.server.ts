import { fail } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard.ts';
import { invalidateAllSessions } from '$lib/server/auth/session.ts';
import { startSession } from '$lib/server/auth/sign-in.ts';
import { changePassword, getProfile, updateProfile } from '$lib/server/accounts.ts';
import { getDb } from '$lib/server/db/client.ts';
import { reauthorizeUser } from '$lib/server/realtime/reauthorize.ts';
import { parseForm } from '$lib/schemas/form.ts';
import { passwordChangeSchema, profileSchema } from '$lib/schemas/account.ts';
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
		}
	};
};

export const actions: Actions = {
	profile: async ({ request, locals, url }) => {
		const user = requireUser(locals, url);
		const form = parseForm(profileSchema, await request.formData());
		if (!form.ok) return fail(400, { profile: { values: form.values, errors: form.errors } });
		await updateProfile(await getDb(), user.id, form.data);
		return { profileSaved: true };
	},
	password: async ({ request, locals, url, cookies }) => {
		const user = requireUser(locals, url);
		const form = parseForm(passwordChangeSchema, await request.formData());
		if (!form.ok) return fail(400, { password: { errors: form.errors } });
		const db = await getDb();
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
		await startSession(db, user.id, cookies, url);
		reauthorizeUser(user.id);
		return { passwordChanged: true };
	}
};
