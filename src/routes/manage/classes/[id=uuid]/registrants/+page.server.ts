import { error } from '@sveltejs/kit';
import { may } from '$lib/server/class-access.ts';
import { requireClassAccess } from '$lib/server/class-guard.ts';
import { getClass, listRegistrants } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/platform.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals, url }) => {
	await requireClassAccess(locals, url, params.id, may.manage);
	const db = await getDb();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	return { cls, registrants: await listRegistrants(db, cls.id) };
};
