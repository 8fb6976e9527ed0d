import type { Handle } from '@sveltejs/kit';

/**
 * The studios (the instructor's, and the interpreter's) are the only pages
 * that may use the camera, microphone and screen capture.
 */
const STUDIO_PATH = /^\/classes\/[^/]+\/(studio|interpret)\/?$/;

const DEVICES_ALLOWED = 'camera=(self), microphone=(self), display-capture=(self)';
const DEVICES_BLOCKED = 'camera=(), microphone=(), display-capture=()';

/**
 * Headers every response carries, next to the Content-Security-Policy that
 * SvelteKit sets from `kit.csp` (svelte.config.js), nonces included.
 */
export const securityHeaders: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	const headers = response.headers;
	headers.set('X-Content-Type-Options', 'nosniff');
	headers.set('Referrer-Policy', 'strict-origin-when-cross-origin');
	// Legacy twin of CSP's frame-ancestors 'none', for browsers without CSP 2.
	headers.set('X-Frame-Options', 'DENY');
	headers.set('Cross-Origin-Opener-Policy', 'same-origin');
	headers.set(
		'Permissions-Policy',
		STUDIO_PATH.test(event.url.pathname) ? DEVICES_ALLOWED : DEVICES_BLOCKED
	);
	return response;
};
