import { fail } from '@sveltejs/kit';
import { z } from 'zod';
import { requireUser } from '$lib/server/auth/guard.ts';
import {
	dismissCancellationNotice,
	listMyRegistrations,
	waitlistPositions
} from '$lib/server/classes.ts';
import { getDb } from '$lib/server/db/client.ts';
import { parseForm } from '$lib/schemas/form.ts';
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
	const items = registrations.map((r) => ({
		...r,
		position: positions.get(r.id) ?? null,
		// A class counts as past once it should have finished, unless it is still live.
		past:
			r.policyClass.status === 'ENDED' ||
			(r.policyClass.status === 'SCHEDULED' &&
				r.policyClass.startsAt.getTime() + r.policyClass.durationMinutes * 60_000 < now.getTime())
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
		const form = parseForm(dismissSchema, await request.formData());
		if (!form.ok) return fail(400, { error: 'error_generic' as const });
		await dismissCancellationNotice(await getDb(), form.data.registrationId, user.id);
		return { dismissed: true };
	}
};
