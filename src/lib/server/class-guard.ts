import { error } from '@sveltejs/kit';
import type { MessageKey } from '$lib/i18n/message-key.ts';
import { requireApiUser, requireUser } from './auth/guard.ts';
import type { SessionUser } from './auth/session.ts';
import { classAccess, type ClassAccess } from './class-access.ts';
import { platform } from './platform.ts';

/**
 * For the pages and files of one class: the signed-in user's access to it
 * (anonymous visitors go to sign in first), 404 for an unknown class, 403
 * when `allowed` refuses (with `refusal` as the message).
 */
export async function requireClassAccess(
	locals: App.Locals,
	url: URL,
	classId: string,
	allowed: (access: ClassAccess) => boolean,
	/** The message a refused user reads. */
	refusal: MessageKey = 'error_forbidden'
): Promise<ClassAccess> {
	return checkClassAccess(requireUser(locals, url), classId, allowed, refusal);
}

/** The same for a class's JSON endpoints: anonymous callers get 401 instead of the sign-in page. */
export async function requireClassAccessForApi(
	locals: App.Locals,
	classId: string,
	allowed: (access: ClassAccess) => boolean,
	refusal: MessageKey = 'error_forbidden'
): Promise<ClassAccess> {
	return checkClassAccess(requireApiUser(locals), classId, allowed, refusal);
}

async function checkClassAccess(
	user: SessionUser,
	classId: string,
	allowed: (access: ClassAccess) => boolean,
	refusal: MessageKey
): Promise<ClassAccess> {
	const access = await classAccess((await platform()).accessFacts, user, classId);
	if (!access) error(404, { message: 'class_not_found' });
	if (!allowed(access)) error(403, { message: refusal });
	return access;
}
