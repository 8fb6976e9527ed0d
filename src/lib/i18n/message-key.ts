import type { m } from '$lib/paraglide/messages.js';

type Inputs<K extends keyof typeof m> = NonNullable<Parameters<(typeof m)[K]>[0]>;

/** Keys of messages that take no parameters: what validation errors and refusals carry. */
export type MessageKey = {
	[K in keyof typeof m]: object extends Inputs<K> ? K : never;
}[keyof typeof m];
