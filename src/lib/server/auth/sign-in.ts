import type { Cookies } from '@sveltejs/kit';
import type { Db } from '../db/client.ts';
import { readEnv } from '../env.ts';
import { setSessionCookie } from './cookie.ts';
import { createSession } from './session.ts';

/** Start a session for the user and hand the browser its cookie. */
export async function startSession(db: Db, userId: string, cookies: Cookies, url: URL) {
	const { token, expiresAt } = await createSession(db, userId, readEnv().SESSION_DAYS);
	setSessionCookie(cookies, token, expiresAt, url.protocol === 'https:');
}
