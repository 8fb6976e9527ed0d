import { getContext, setContext } from 'svelte';

/**
 * The page's one polite live region: things that happen without the reader
 * doing anything (the class going live, an answer to my question, a seat from
 * the waitlist) are said here, once, without moving focus.
 */
export class Announcer {
	text = $state('');
	#timer: ReturnType<typeof setTimeout> | undefined;

	say(message: string) {
		clearTimeout(this.#timer);
		this.text = '';
		// Screen readers speak a live region when its content changes; emptying it
		// first, and refilling a moment later, makes a repeated message speak again.
		this.#timer = setTimeout(() => (this.text = message), 100);
	}
}

const KEY = Symbol('announcer');

export function provideAnnouncer(): Announcer {
	return setContext(KEY, new Announcer());
}

export function useAnnouncer(): Announcer {
	const announcer = getContext<Announcer | undefined>(KEY);
	if (!announcer) throw new Error('useAnnouncer() outside the root layout');
	return announcer;
}
