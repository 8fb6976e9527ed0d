import { error } from '@sveltejs/kit';
import { may } from '$lib/server/class-access.ts';
import { requireClassAccess } from '$lib/server/class-guard.ts';
import { getClass } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/platform.ts';
import type { PageServerLoad } from './$types';

/** The sign-language interpreter's studio: only the class's assigned interpreter publishes here. */
export const load: PageServerLoad = async ({ params, locals, url }) => {
	await requireClassAccess(locals, url, params.id, may.interpret);
	const cls = await getClass(await getDb(), params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	return { cls: { id: cls.id, title: cls.title, status: cls.status } };
};
