import { fail } from '@sveltejs/kit';
import { z } from 'zod';
import { requireRole } from '$lib/server/auth/guard.ts';
import { listUsers, updateUserAccess } from '$lib/server/accounts.ts';
import type { Db } from '$lib/server/db/client.ts';
import { getDb, platform } from '$lib/server/platform.ts';
import { parseForm, readForm } from '$lib/schemas/form.ts';
import { roleChangeSchema } from '$lib/schemas/account.ts';
import type { Actions, PageServerLoad } from './$types';

const ADMIN = ['ADMIN'] as const;

const accessSchema = z.object({
	userId: z.string().uuid('error_generic'),
	disabled: z.enum(['true', 'false'], { message: 'error_generic' }).transform((v) => v === 'true')
});

async function displayName(db: Db, userId: string) {
	const user = await db.user.findUnique({ where: { id: userId }, select: { displayName: true } });
	return user?.displayName ?? '';
}

type Outcome = 'ok' | 'last_admin' | 'not_found';

function refusal(outcome: Exclude<Outcome, 'ok'>, userId: string) {
	return outcome === 'last_admin'
		? fail(409, { userId, error: 'error_last_admin' as const })
		: fail(404, { userId, error: 'error_generic' as const });
}

export const load: PageServerLoad = async ({ locals, url }) => {
	const me = requireRole(locals, url, ADMIN);
	const q = (url.searchParams.get('q') ?? '').slice(0, 100);
	return { q, users: await listUsers(await getDb(), q), myId: me.id };
};

export const actions: Actions = {
	role: async ({ request, locals, url }) => {
		const me = requireRole(locals, url, ADMIN);
		const form = parseForm(roleChangeSchema, await readForm(request));
		if (!form.ok) return fail(400, { userId: form.values.userId, error: 'error_generic' as const });
		const { db, events } = await platform();
		const outcome = await updateUserAccess(db, events, me, form.data.userId, {
			role: form.data.role
		});
		if (outcome !== 'ok') return refusal(outcome, form.data.userId);
		return {
			done: 'role' as const,
			userId: form.data.userId,
			name: await displayName(db, form.data.userId)
		};
	},
	access: async ({ request, locals, url }) => {
		const me = requireRole(locals, url, ADMIN);
		const form = parseForm(accessSchema, await readForm(request));
		if (!form.ok) return fail(400, { userId: form.values.userId, error: 'error_generic' as const });
		// Disabling yourself would sign you out mid-task; another admin must do it.
		if (form.data.disabled && form.data.userId === me.id) {
			return fail(409, { userId: me.id, error: 'error_forbidden' as const });
		}
		const { db, events } = await platform();
		const outcome = await updateUserAccess(db, events, me, form.data.userId, {
			disabled: form.data.disabled
		});
		if (outcome !== 'ok') return refusal(outcome, form.data.userId);
		return {
			done: form.data.disabled ? ('disabled' as const) : ('enabled' as const),
			userId: form.data.userId,
			name: await displayName(db, form.data.userId)
		};
	}
};
