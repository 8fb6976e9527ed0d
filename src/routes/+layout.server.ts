import { getDb } from '$lib/server/platform.ts';
import { upcomingClasses } from '$lib/server/reminders.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ locals }) => ({
	user: locals.user
		? {
				id: locals.user.id,
				role: locals.user.role,
				displayName: locals.user.displayName,
				priorityService: locals.user.priorityService
			}
		: null,
	careMode: locals.careMode,
	upcoming: locals.user ? await upcomingClasses(await getDb(), locals.user.id) : []
});
