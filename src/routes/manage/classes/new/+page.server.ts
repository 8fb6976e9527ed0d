import { fail, redirect } from '@sveltejs/kit';
import { CLASS_MANAGERS, requireRole } from '$lib/server/auth/guard.ts';
import { parseClassForm } from '$lib/server/class-form.ts';
import { classDetails, listInstructors } from '$lib/server/classes.ts';
import { getDb, platform } from '$lib/server/platform.ts';
import { formValues, readForm } from '$lib/schemas/form.ts';
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
		const formData = await readForm(request);
		const form = parseClassForm(formData, user);
		if (!form.ok) return fail(400, { values: form.values, errors: form.errors });
		const { lifecycle } = await platform();
		const created = await lifecycle.schedule(user, classDetails(form.data), form.data.capacity);
		if (!created.ok) {
			return fail(400, {
				values: formValues(formData),
				errors: { instructorId: 'error_instructor_invalid' as const }
			});
		}
		redirect(303, `/classes/${created.classId}`);
	}
};
