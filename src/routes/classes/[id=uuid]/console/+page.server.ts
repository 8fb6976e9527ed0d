import { requireQaAccess } from '$lib/server/qa/access.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals, url }) => {
	const { title, status } = await requireQaAccess(locals, url, params.id, 'moderator');
	return { classId: params.id, title, status };
};
