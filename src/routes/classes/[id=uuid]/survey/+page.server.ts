import { error, fail } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard.ts';
import { may } from '$lib/server/class-access.ts';
import { requireClassAccess } from '$lib/server/class-guard.ts';
import { getClass } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/platform.ts';
import { getSurveyResponse, submitSurvey } from '$lib/server/survey.ts';
import { formFailure, formValues, parseForm, readForm } from '$lib/schemas/form.ts';
import { surveySchema } from '$lib/schemas/survey.ts';
import type { Actions, PageServerLoad } from './$types';

/** 满意度评价 of one class: asked of its confirmed registrants, answered once it has ended. */
export const load: PageServerLoad = async ({ params, locals, url }) => {
	const access = await requireClassAccess(
		locals,
		url,
		params.id,
		may.beAskedToRate,
		'survey_not_allowed'
	);
	const user = requireUser(locals, url);
	const db = await getDb();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	return {
		cls: { id: cls.id, title: cls.title, instructorName: cls.instructor.displayName },
		open: may.rate(access),
		response: await getSurveyResponse(db, cls.id, user.id),
		now: new Date()
	};
};

export const actions: Actions = {
	default: async ({ params, locals, url, request }) => {
		await requireClassAccess(locals, url, params.id, may.rate, 'survey_not_open');
		const user = requireUser(locals, url);
		const formData = await readForm(request);
		const form = parseForm(surveySchema, formData);
		if (!form.ok) return formFailure(form.values, form.errors);
		const outcome = await submitSurvey(await getDb(), params.id, user.id, form.data);
		if (!outcome.ok) {
			return fail(409, { values: formValues(formData), errors: {}, message: outcome.reason });
		}
		return { saved: outcome.created ? ('created' as const) : ('updated' as const) };
	}
};
