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

/**
 * For JSON that pages fetch: an anonymous caller (signed out in another tab,
 * say) gets 401, not the sign-in page, which the page would try to read as JSON.
 */
export function requireApiUser(locals: App.Locals): SessionUser {
	if (!locals.user) error(401, { message: 'error_signed_out' });
	return locals.user;
}

export function requireRole(locals: App.Locals, url: URL, roles: readonly Role[]): SessionUser {
	const user = requireUser(locals, url);
	if (!roles.includes(user.role)) error(403, { message: 'error_forbidden' });
	return user;
}

export const CLASS_MANAGERS: readonly Role[] = ['INSTRUCTOR', 'STAFF', 'ADMIN'];

/** The bureau's own staff: reports, the email outbox. */
export const BUREAU_STAFF: readonly Role[] = ['STAFF', 'ADMIN'];

const AFTER_SIGN_IN = '/my';

/**
 * Where to go after signing in: the target parsed as a URL against this
 * site's origin, accepted only when it stays on this origin, and returned in
 * its normalised form. Browsers read `/\evil.example` or `/<tab>/evil` as
 * another host; the URL parser does the same, so those land on /my.
 */
export function safeRedirectTarget(target: string | null, origin: string): string {
	if (!target || !target.startsWith('/')) return AFTER_SIGN_IN;
	let url: URL;
	try {
		url = new URL(target, origin);
	} catch {
		return AFTER_SIGN_IN;
	}
	if (url.origin !== new URL(origin).origin) return AFTER_SIGN_IN;
	return url.pathname + url.search + url.hash;
}
