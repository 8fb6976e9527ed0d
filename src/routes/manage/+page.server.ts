import { BUREAU_STAFF, CLASS_MANAGERS, requireRole } from '$lib/server/auth/guard.ts';
import { listManagedClasses } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/platform.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const user = requireRole(locals, url, CLASS_MANAGERS);
	const db = await getDb();
	return {
		classes: await listManagedClasses(db, user.role === 'INSTRUCTOR' ? user.id : null),
		showInstructor: user.role !== 'INSTRUCTOR',
		bureauStaff: BUREAU_STAFF.includes(user.role)
	};
};
