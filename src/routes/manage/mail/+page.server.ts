import { fail } from '@sveltejs/kit';
import { z } from 'zod';
import { BUREAU_STAFF, requireRole } from '$lib/server/auth/guard.ts';
import { platform } from '$lib/server/platform.ts';
import { parseForm, readForm } from '$lib/schemas/form.ts';
import type { Actions, PageServerLoad } from './$types';

/** The email outbox for staff: what is waiting, what failed and why, and a retry. */
export const load: PageServerLoad = async ({ locals, url }) => {
	requireRole(locals, url, BUREAU_STAFF);
	const { classEmails } = await platform();
	const [counts, troubled] = await Promise.all([
		classEmails.outbox.countByStatus(),
		classEmails.outbox.listTroubled()
	]);
	return { sending: classEmails.sender.sending, counts, troubled };
};

const retrySchema = z.object({ jobId: z.string().uuid('error_generic') });

export const actions: Actions = {
	retry: async ({ locals, url, request }) => {
		requireRole(locals, url, BUREAU_STAFF);
		const form = parseForm(retrySchema, await readForm(request));
		if (!form.ok) return fail(400, { error: 'error_generic' as const });
		const { classEmails } = await platform();
		if (!(await classEmails.outbox.retry(form.data.jobId))) {
			return fail(409, { error: 'mail_retry_refused' as const });
		}
		classEmails.sender.wake();
		return { retried: true };
	}
};
