import { fail, redirect } from '@sveltejs/kit';
import { CLASS_MANAGERS, requireRole } from '$lib/server/auth/guard.ts';
import { parseClassForm } from '$lib/server/class-form.ts';
import { createClass, listInstructors } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/db/client.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const user = requireRole(locals, url, CLASS_MANAGERS);
	return {
		instructors: user.role === 'INSTRUCTOR' ? null : await listInstructors(await getDb())
	};
};

export const actions: Actions = {
	default: async ({ request, locals, url }) => {
		const user = requireRole(locals, url, CLASS_MANAGERS);
		const form = parseClassForm(await request.formData(), user);
		if (!form.ok) return fail(400, { values: form.values, errors: form.errors });
		const created = await createClass(await getDb(), form.data);
		redirect(303, `/classes/${created.id}`);
	}
};
