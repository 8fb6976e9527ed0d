import { error, fail } from '@sveltejs/kit';
import { CLASS_MANAGERS, requireRole } from '$lib/server/auth/guard.ts';
import { may } from '$lib/server/class-access.ts';
import { classFormValues, parseClassForm } from '$lib/server/class-form.ts';
import { requireClassAccess } from '$lib/server/class-guard.ts';
import {
	classDetails,
	findActiveAccount,
	getClass,
	getInterpreter,
	listInstructors
} from '$lib/server/classes.ts';
import { platform } from '$lib/server/platform.ts';
import { formValues, parseForm, readForm } from '$lib/schemas/form.ts';
import { cancelClassSchema, interpreterSchema } from '$lib/schemas/policy-class.ts';
import type { Actions, PageServerLoad } from './$types';

const isEditable = (status: string) => status === 'SCHEDULED' || status === 'LIVE';

export const load: PageServerLoad = async ({ params, locals, url }) => {
	const user = requireRole(locals, url, CLASS_MANAGERS);
	await requireClassAccess(locals, url, params.id, may.manage);
	const { db } = await platform();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	return {
		cls,
		values: classFormValues(cls),
		editable: isEditable(cls.status),
		interpreter: await getInterpreter(db, cls.id),
		instructors: user.role === 'INSTRUCTOR' ? null : await listInstructors(db)
	};
};

export const actions: Actions = {
	save: async ({ params, request, locals, url }) => {
		const user = requireRole(locals, url, CLASS_MANAGERS);
		const formData = await readForm(request);
		const form = parseClassForm(formData, user);
		if (!form.ok) return fail(400, { values: form.values, errors: form.errors });
		const { lifecycle } = await platform();
		// One transaction under the seat rules: refused seats save nothing.
		const outcome = await lifecycle.edit(
			params.id,
			user,
			classDetails(form.data),
			form.data.capacity
		);
		if (outcome.ok) return { saved: true };
		const values = formValues(formData);
		switch (outcome.reason) {
			case 'not_found':
				error(404, { message: 'class_not_found' });
			// falls through: error() throws
			case 'forbidden':
				error(403, { message: 'error_forbidden' });
			// falls through: error() throws
			case 'bad_state':
				return fail(409, { values, errors: {}, message: 'error_class_not_editable' as const });
			case 'instructor_invalid':
				return fail(400, { values, errors: { instructorId: 'error_instructor_invalid' as const } });
			case 'below_confirmed':
				return fail(400, {
					values,
					errors: { capacity: 'error_capacity_below_confirmed' as const },
					confirmedCount: outcome.confirmedCount
				});
			case 'reserved_over_free':
				return fail(400, {
					values,
					errors: { reservedSeats: 'error_reserved_seats_taken' as const },
					reservedMax: outcome.reservedMax
				});
			case 'reserved_released':
				return fail(400, {
					values,
					errors: { reservedSeats: 'error_reserved_seats_released' as const }
				});
		}
	},
	/** 手语翻译: assign (or remove) the class's sign-language interpreter. */
	interpreter: async ({ params, request, locals, url }) => {
		const user = requireRole(locals, url, CLASS_MANAGERS);
		const formData = await readForm(request);
		const form = parseForm(interpreterSchema, formData);
		const failed = (status: number, error: string) =>
			fail(status, {
				interpreter: { values: formValues(formData), errors: { interpreter: error } }
			});
		if (!form.ok) return fail(400, { interpreter: { values: form.values, errors: form.errors } });
		const { db, lifecycle } = await platform();
		const contact = form.data.interpreter;
		const account = contact ? await findActiveAccount(db, contact) : null;
		if (contact && !account) return failed(400, 'error_interpreter_unknown');
		const outcome = await lifecycle.assignInterpreter(params.id, user, account?.id ?? null);
		if (outcome.ok) return { interpreterSaved: true };
		switch (outcome.reason) {
			case 'not_found':
				error(404, { message: 'class_not_found' });
			// falls through: error() throws
			case 'forbidden':
				error(403, { message: 'error_forbidden' });
			// falls through: error() throws
			case 'bad_state':
				return failed(409, 'error_class_not_editable');
			case 'interpreter_unknown':
				return failed(400, 'error_interpreter_unknown');
			case 'interpreter_is_instructor':
				return failed(400, 'error_interpreter_is_instructor');
		}
	},
	cancel: async ({ params, request, locals, url }) => {
		const user = requireRole(locals, url, CLASS_MANAGERS);
		const formData = await readForm(request);
		const form = parseForm(cancelClassSchema, formData);
		if (!form.ok) return fail(400, { cancel: { values: form.values, errors: form.errors } });
		const { lifecycle } = await platform();
		const outcome = await lifecycle.cancel(params.id, user, form.data.reason);
		if (!outcome.ok && outcome.reason === 'not_found') error(404, { message: 'class_not_found' });
		if (!outcome.ok && outcome.reason === 'forbidden') error(403, { message: 'error_forbidden' });
		if (!outcome.ok || !outcome.changed) {
			return fail(409, {
				cancel: { values: formValues(formData), errors: {}, message: 'error_class_not_editable' }
			});
		}
		return { cancelled: true };
	}
};
