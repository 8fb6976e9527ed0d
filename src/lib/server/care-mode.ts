import type { Cookies } from '@sveltejs/kit';
import type { SessionUser } from './auth/session.ts';
import type { Db } from './db/client.ts';
import type { EventBus } from './events.ts';

/**
 * 关怀模式 (accessibility mode): larger text and targets, a high-contrast
 * theme, no motion, a simplified home and a Q&A list that moves only on
 * request. An account's own choice wins; before it chooses, this browser's
 * choice applies (a cookie, also what signed-out visitors get); otherwise it
 * is on for 爱心通道 users.
 */
export const CARE_MODE_COOKIE = 'tc_care';
const YEAR_SECONDS = 365 * 24 * 3600;

/** This browser's choice, or null when it never made one. */
export function browserCareChoice(cookies: Cookies): boolean | null {
	const value = cookies.get(CARE_MODE_COOKIE);
	return value === 'on' ? true : value === 'off' ? false : null;
}

export function careModeFor(
	user: Pick<SessionUser, 'careMode' | 'priorityService'> | null,
	browserChoice: boolean | null
): boolean {
	if (!user) return browserChoice ?? false;
	return user.careMode ?? browserChoice ?? user.priorityService;
}

/** Remember the choice in this browser, and on the account when signed in. */
export async function chooseCareMode(
	{ db, events }: { db: Db; events: EventBus },
	user: SessionUser | null,
	cookies: Cookies,
	on: boolean,
	secure: boolean
): Promise<void> {
	cookies.set(CARE_MODE_COOKIE, on ? 'on' : 'off', {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		maxAge: YEAR_SECONDS
	});
	if (!user) return;
	await db.user.update({ where: { id: user.id }, data: { careMode: on } });
	// Sessions hold the user a while: the next request must see the new choice.
	await events.publish('user.changed', { userId: user.id, reason: 'care_mode' });
}

const PLACEHOLDER = '%tc.care%';

/**
 * Writes the mode into app.html's <html> tag, so the first paint already has
 * the right theme. Only the document's first chunk holds that tag; later
 * chunks are page content, where the same text must stay as typed.
 */
export function markCareMode(html: string, on: boolean): string {
	return html.startsWith('<!doctype html>') ? html.replace(PLACEHOLDER, on ? 'on' : 'off') : html;
}
