import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard.ts';
import { getClass } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/db/client.ts';
import { canPublish } from '$lib/server/live-status.ts';
import type { PageServerLoad } from './$types';

/** The instructor's live studio; only the class's instructor or an admin may broadcast. */
export const load: PageServerLoad = async ({ params, locals, url }) => {
	const user = requireUser(locals, url);
	const cls = await getClass(await getDb(), params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	if (!canPublish(user, cls)) error(403, { message: 'error_forbidden' });
	return { cls: { id: cls.id, title: cls.title, status: cls.status } };
};
