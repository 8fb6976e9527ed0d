import { error } from '@sveltejs/kit';
import { requireUser } from '../auth/guard.ts';
import { getDb } from '../db/client.ts';
import { resolveAccess, type QaAccess } from './service.ts';

/**
 * Guard for the Q&A pages and routes: signed in (else to the login page), a
 * class that exists, and Q&A access (see resolveAccess); `moderator` also
 * requires staff, admin or the class's instructor.
 */
export async function requireQaAccess(
	locals: App.Locals,
	url: URL,
	classId: string,
	need: 'any' | 'moderator'
): Promise<{ access: QaAccess; title: string; status: string }> {
	const user = requireUser(locals, url);
	const db = await getDb();
	const cls = await db.policyClass.findUnique({
		where: { id: classId },
		select: { title: true, status: true }
	});
	if (!cls) error(404, { message: 'class_not_found' });
	const access = await resolveAccess(db, user, classId);
	if (!access) error(403, { message: 'qa_error_not_participant' });
	if (need === 'moderator' && access.role !== 'moderator') {
		error(403, { message: 'qa_error_forbidden' });
	}
	return { access, title: cls.title, status: cls.status };
}
