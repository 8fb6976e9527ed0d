import type { Server as HttpServer } from 'node:http';
import { sequence } from '@sveltejs/kit/hooks';
import type { Handle, ServerInit } from '@sveltejs/kit';
import { paraglideMiddleware } from '$lib/paraglide/server.js';
import { clearSessionCookie, setSessionCookie } from '$lib/server/auth/cookie.ts';
import { SESSION_COOKIE, validateSessionToken } from '$lib/server/auth/session.ts';
import { getDb } from '$lib/server/db/client.ts';
import { readEnv } from '$lib/server/env.ts';
import { registerMediaNamespace } from '$lib/server/media/namespace.ts';
import { registerQaNamespace } from '$lib/server/qa/namespace.ts';
import { redisRateLimiters } from '$lib/server/qa/rate-limit.ts';
import { attachRealtime } from '$lib/server/realtime/attach.ts';

const env = readEnv();

export const init: ServerInit = async () => {
	await getDb();
	await (await import('$lib/server/recordings/lifecycle.ts')).startRecordings({ getDb });
	// server.js (or the dev plugin in vite.config.ts) leaves the HTTP server here.
	const httpServer = (globalThis as Record<symbol, HttpServer | undefined>)[
		Symbol.for('taxpayer-classroom.httpServer')
	];
	if (!httpServer) return;
	const { io, redis } = await attachRealtime(httpServer, env);
	const socketDeps = { getDb, sessionDays: env.SESSION_DAYS };
	registerQaNamespace(io, {
		...socketDeps,
		// Several app processes on one Redis count each user's questions and votes together.
		rateLimiters: redis ? redisRateLimiters(redis, 'taxpayer-classroom') : undefined
	});
	registerMediaNamespace(io, socketDeps);
};

const handleLocale: Handle = ({ event, resolve }) =>
	paraglideMiddleware(event.request, ({ request, locale }) => {
		event.request = request;
		return resolve(event, {
			transformPageChunk: ({ html }) => html.replace('%paraglide.lang%', locale)
		});
	});

const handleSession: Handle = async ({ event, resolve }) => {
	const token = event.cookies.get(SESSION_COOKIE);
	event.locals.user = null;
	event.locals.sessionId = null;
	if (token) {
		const session = await validateSessionToken(await getDb(), token, env.SESSION_DAYS);
		if (session) {
			event.locals.user = session.user;
			event.locals.sessionId = session.id;
			setSessionCookie(event.cookies, token, session.expiresAt, event.url.protocol === 'https:');
		} else {
			clearSessionCookie(event.cookies);
		}
	}
	return resolve(event);
};

export const handle = sequence(handleLocale, handleSession);
