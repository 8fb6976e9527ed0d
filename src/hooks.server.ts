import { sequence } from '@sveltejs/kit/hooks';
import type { Handle, ServerInit } from '@sveltejs/kit';
import { paraglideMiddleware } from '$lib/paraglide/server.js';
import { clearSessionCookie, setSessionCookie } from '$lib/server/auth/cookie.ts';
import { SESSION_COOKIE } from '$lib/server/auth/session.ts';
import { platform, sharedHttpServer, startPlatform } from '$lib/server/platform.ts';
import { attachRealtime } from '$lib/server/realtime/attach.ts';
import { startRecordings } from '$lib/server/recordings/lifecycle.ts';
import { securityHeaders } from '$lib/server/security-headers.ts';
import { browserCareChoice, careModeFor, markCareMode } from '$lib/server/care-mode.ts';
import { preloadEarlyStartFirst, withEarlyStart } from '$lib/server/early-start.ts';

export const init: ServerInit = async () => {
	// Everything is configured and validated here, before the first request; the
	// workers start now, so the first viewer after a restart does not wait for them.
	const p = await startPlatform();
	const httpServer = sharedHttpServer();
	if (httpServer) await attachRealtime(p, httpServer);
	p.leases.start();
	await startRecordings({ db: p.db, events: p.events, media: p.media, leases: p.leases });
	// Stopped by server.js on SIGTERM/SIGINT (platform().stop()).
	await p.attendance.start();
	await p.instances.start();
	p.classEmails.start();
	p.registrations.start();
	if (!p.classEmails.sender.sending)
		console.warn('[mail] SMTP_URL is not set: emails are queued, not sent');
	await p.materials.sweepIncoming();
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
		const session = await (await platform()).sessions.validate(token);
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

const handleCareMode: Handle = ({ event, resolve }) => {
	const on = careModeFor(event.locals.user, browserCareChoice(event.cookies));
	event.locals.careMode = on;
	return resolve(event, { transformPageChunk: ({ html }) => markCareMode(html, on) });
};

/** The page's load has run when its HTML is transformed, and has said whether to start early. */
const handleEarlyStart: Handle = async ({ event, resolve }) => {
	const response = await resolve(event, {
		transformPageChunk: ({ html }) => withEarlyStart(html, event.locals.earlyStart)
	});
	return preloadEarlyStartFirst(response, event.locals.earlyStart);
};

export const handle = sequence(
	securityHeaders,
	handleLocale,
	handleSession,
	handleCareMode,
	handleEarlyStart
);
