import { m } from '$lib/paraglide/messages.js';
import type { MessageKey } from './message-key.ts';

/** Render a message chosen at run time (an error key from a form action). */
export function translate(key: string): string {
	const message = (m as unknown as Record<string, (() => string) | undefined>)[key];
	return message ? message() : m.error_generic();
}

export function isMessageKey(key: string): key is MessageKey {
	return key in m;
}
