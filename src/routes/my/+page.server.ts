import { fail } from '@sveltejs/kit';
import { z } from 'zod';
import { requireUser } from '$lib/server/auth/guard.ts';
import { decideAccess, may } from '$lib/server/class-access.ts';
import {
	classIsOver,
	dismissCancellationNotice,
	listMyRegistrations,
	waitlistPositions
} from '$lib/server/classes.ts';
import { getDb } from '$lib/server/platform.ts';
import { surveyStates } from '$lib/server/survey.ts';
import { parseForm, readForm } from '$lib/schemas/form.ts';
import type { Actions, PageServerLoad } from './$types';

const dismissSchema = z.object({ registrationId: z.string().uuid('error_generic') });

export const load: PageServerLoad = async ({ locals, url }) => {
	const user = requireUser(locals, url);
	const db = await getDb();
	const registrations = await listMyRegistrations(db, user.id);
	const positions = await waitlistPositions(
		db,
		registrations.filter((r) => r.status === 'WAITLISTED').map((r) => r.id)
	);
	const now = new Date();
	const rated = await surveyStates(
		db,
		user.id,
		registrations.filter((r) => r.policyClass.status === 'ENDED').map((r) => r.policyClass.id)
	);
	const items = registrations.map((r) => ({
		...r,
		position: positions.get(r.id) ?? null,
		// 满意度评价: asked of confirmed registrants once the class has ended.
		survey: {
			asked:
				r.policyClass.status === 'ENDED' &&
				may.rate(
					decideAccess({
						user,
						cls: { ...r.policyClass, instructorId: r.policyClass.instructor.id },
						registration: r.status
					})
				),
			editableUntil: rated.get(r.policyClass.id)?.editableUntil ?? null
		},
		past: r.policyClass.status !== 'CANCELLED' && classIsOver(r.policyClass, now)
	}));
	const running = (r: (typeof items)[number]) => r.policyClass.status !== 'CANCELLED' && !r.past;
	return {
		notices: items.filter((r) => r.policyClass.status === 'CANCELLED' && !r.noticeSeenAt),
		upcoming: items.filter((r) => running(r) && r.status === 'CONFIRMED'),
		waitlisted: items.filter((r) => running(r) && r.status === 'WAITLISTED'),
		past: items.filter((r) => r.policyClass.status !== 'CANCELLED' && r.past).reverse(),
		cancelled: items.filter((r) => r.policyClass.status === 'CANCELLED'),
		total: items.length
	};
};

export const actions: Actions = {
	dismiss: async ({ request, locals, url }) => {
		const user = requireUser(locals, url);
		const form = parseForm(dismissSchema, await readForm(request));
		if (!form.ok) return fail(400, { error: 'error_generic' as const });
		await dismissCancellationNotice(await getDb(), form.data.registrationId, user.id);
		return { dismissed: true };
	}
};
