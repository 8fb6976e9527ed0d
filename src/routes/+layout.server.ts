import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => ({
	user: locals.user
		? {
				id: locals.user.id,
				role: locals.user.role,
				displayName: locals.user.displayName,
				priorityService: locals.user.priorityService
			}
		: null
});
