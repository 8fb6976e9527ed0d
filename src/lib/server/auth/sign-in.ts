import type { Cookies } from '@sveltejs/kit';
import type { Db } from '../db/client.ts';
import { setSessionCookie } from './cookie.ts';
import { createSession } from './session.ts';

/** Start a session for the user and hand the browser its cookie; returns the session id. */
export async function startSession(
	db: Db,
	userId: string,
	sessionDays: number,
	cookies: Cookies,
	url: URL
): Promise<string> {
	const { token, id, expiresAt } = await createSession(db, userId, sessionDays);
	setSessionCookie(cookies, token, expiresAt, url.protocol === 'https:');
	return id;
}
