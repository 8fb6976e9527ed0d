import { error, redirect } from '@sveltejs/kit';
import type { Role } from '../db/generated/enums.ts';
import type { SessionUser } from './session.ts';

/** Send anonymous visitors to sign in, then back to where they were. */
export function requireUser(locals: App.Locals, url: URL): SessionUser {
	if (!locals.user) {
		redirect(303, `/login?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
	}
	return locals.user;
}

export function requireRole(locals: App.Locals, url: URL, roles: readonly Role[]): SessionUser {
	const user = requireUser(locals, url);
	if (!roles.includes(user.role)) error(403, { message: 'error_forbidden' });
	return user;
}

export const CLASS_MANAGERS: readonly Role[] = ['INSTRUCTOR', 'STAFF', 'ADMIN'];

/** Staff and admins manage every class; an instructor manages their own. */
export function canManageClass(user: SessionUser, cls: { instructorId: string }): boolean {
	return user.role === 'STAFF' || user.role === 'ADMIN' || user.id === cls.instructorId;
}

/** Only redirect to paths on this site. */
export function safeRedirectTarget(target: string | null): string {
	return target && target.startsWith('/') && !target.startsWith('//') ? target : '/my';
}
