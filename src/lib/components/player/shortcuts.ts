/** What a key pressed inside the player does. Shared by the handler and the list shown on the page. */
export type PlayerCommand = 'mute' | 'volumeUp' | 'volumeDown' | 'fullscreen' | 'pip' | 'quality';

const KEYS: Record<string, PlayerCommand> = {
	m: 'mute',
	ArrowUp: 'volumeUp',
	ArrowDown: 'volumeDown',
	f: 'fullscreen',
	p: 'pip',
	q: 'quality'
};

/** The shortcut's key as aria-keyshortcuts spells it. */
export const SHORTCUT_KEYS: Record<PlayerCommand, string> = {
	mute: 'M',
	volumeUp: 'ArrowUp',
	volumeDown: 'ArrowDown',
	fullscreen: 'F',
	pip: 'P',
	quality: 'Q'
};

/**
 * The command for a key press, or null when the key is not a shortcut or the
 * focused control needs it itself: typing in a field, choosing in a list, or
 * moving the volume slider with the arrows.
 */
export function commandFor(event: KeyboardEvent): PlayerCommand | null {
	if (event.ctrlKey || event.metaKey || event.altKey) return null;
	const target = event.target as HTMLElement | null;
	if (target?.isContentEditable) return null;
	const tag = target?.tagName;
	if (tag === 'SELECT' || tag === 'TEXTAREA') return null;
	const command = KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key] ?? null;
	if (tag === 'INPUT') {
		const type = (target as HTMLInputElement).type;
		if (type !== 'range') return null;
		if (command === 'volumeUp' || command === 'volumeDown') return null;
	}
	return command;
}
