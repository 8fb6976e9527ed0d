import { error } from '@sveltejs/kit';
import { CLASS_MANAGERS, canManageClass, requireRole } from '$lib/server/auth/guard.ts';
import { getClass, listRegistrants } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/db/client.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals, url }) => {
	const user = requireRole(locals, url, CLASS_MANAGERS);
	const db = await getDb();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	if (!canManageClass(user, cls)) error(403, { message: 'error_forbidden' });
	return { cls, registrants: await listRegistrants(db, cls.id) };
};
