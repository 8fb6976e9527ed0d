import { error, fail } from '@sveltejs/kit';
import { CLASS_MANAGERS, canManageClass, requireRole } from '$lib/server/auth/guard.ts';
import type { SessionUser } from '$lib/server/auth/session.ts';
import { classFormValues, parseClassForm } from '$lib/server/class-form.ts';
import { classDetails, getClass, listInstructors } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/db/client.ts';
import type { Db } from '$lib/server/db/client.ts';
import { cancelClass, changeCapacity } from '$lib/server/registration.ts';
import { formValues, parseForm } from '$lib/schemas/form.ts';
import { cancelClassSchema } from '$lib/schemas/policy-class.ts';
import type { Actions, PageServerLoad } from './$types';

/** The class, if it exists and this user may manage it; 404 or 403 otherwise. */
async function managedClass(db: Db, id: string, user: SessionUser) {
	const cls = await getClass(db, id);
	if (!cls) error(404, { message: 'class_not_found' });
	if (!canManageClass(user, cls)) error(403, { message: 'error_forbidden' });
	return cls;
}

const isEditable = (status: string) => status === 'SCHEDULED' || status === 'LIVE';

export const load: PageServerLoad = async ({ params, locals, url }) => {
	const user = requireRole(locals, url, CLASS_MANAGERS);
	const db = await getDb();
	const cls = await managedClass(db, params.id, user);
	return {
		cls,
		values: classFormValues(cls),
		editable: isEditable(cls.status),
		instructors: user.role === 'INSTRUCTOR' ? null : await listInstructors(db)
	};
};

export const actions: Actions = {
	save: async ({ params, request, locals, url }) => {
		const user = requireRole(locals, url, CLASS_MANAGERS);
		const db = await getDb();
		const cls = await managedClass(db, params.id, user);
		const formData = await request.formData();
		if (!isEditable(cls.status)) {
			return fail(409, {
				values: formValues(formData),
				errors: {},
				message: 'error_class_not_editable'
			});
		}
		const form = parseClassForm(formData, user);
		if (!form.ok) return fail(400, { values: form.values, errors: form.errors });
		// One transaction under the seat rules: a refused capacity saves nothing.
		const outcome = await changeCapacity(db, cls.id, form.data.capacity, {
			details: classDetails(form.data)
		});
		if (!outcome.ok) {
			if (outcome.reason === 'class_not_found') error(404, { message: 'class_not_found' });
			return fail(400, {
				values: formValues(formData),
				errors: { capacity: 'error_capacity_below_confirmed' as const },
				confirmedCount: outcome.confirmedCount ?? cls.confirmedCount
			});
		}
		return { saved: true };
	},
	cancel: async ({ params, request, locals, url }) => {
		const user = requireRole(locals, url, CLASS_MANAGERS);
		const db = await getDb();
		const cls = await managedClass(db, params.id, user);
		const formData = await request.formData();
		const form = parseForm(cancelClassSchema, formData);
		if (!form.ok) return fail(400, { cancel: { values: form.values, errors: form.errors } });
		if (!(await cancelClass(db, cls.id, form.data.reason))) {
			return fail(409, {
				cancel: { values: formValues(formData), errors: {}, message: 'error_class_not_editable' }
			});
		}
		return { cancelled: true };
	}
};
