import { requireQaAccess } from '$lib/server/qa/access.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals, url }) => {
	const { access, title } = await requireQaAccess(locals, url, params.id, 'any');
	return { classId: params.id, title, isModerator: access.role === 'moderator' };
};
