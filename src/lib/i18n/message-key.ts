import type { m } from '$lib/paraglide/messages.js';

/** Keys of messages that take no parameters: what validation errors and refusals carry. */
export type MessageKey = {
	[K in keyof typeof m]: Parameters<(typeof m)[K]>[0] extends undefined ? K : never;
}[keyof typeof m];
