/** Where the interpreter's picture sits over the class's picture. */
export const CORNERS = ['top-left', 'top-right', 'bottom-left', 'bottom-right'] as const;
export type Corner = (typeof CORNERS)[number];

const STORAGE_KEY = 'tc:interpreter-view';

type Saved = { corner: Corner; large: boolean; hidden: boolean };

function load(): Saved {
	const fallback: Saved = { corner: 'bottom-right', large: false, hidden: false };
	try {
		const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<Saved> | null;
		if (!saved || typeof saved !== 'object') return fallback;
		return {
			corner: CORNERS.includes(saved.corner as Corner) ? (saved.corner as Corner) : 'bottom-right',
			large: saved.large === true,
			hidden: saved.hidden === true
		};
	} catch {
		// No storage (private mode, blocked): the defaults for this visit.
		return fallback;
	}
}

/**
 * The viewer's choice for the sign-language interpreter's picture: its
 * corner, enlarged or not, shown or hidden. Kept in this browser, so it
 * holds across classes and visits; the live player and the replay share it.
 */
export class InterpreterView {
	corner = $state<Corner>('bottom-right');
	large = $state(false);
	hidden = $state(false);

	/** Reads the saved choice; call in the browser (onMount or an effect). */
	restore(): void {
		const saved = load();
		this.corner = saved.corner;
		this.large = saved.large;
		this.hidden = saved.hidden;
	}

	set(change: Partial<Saved>): void {
		if (change.corner !== undefined) this.corner = change.corner;
		if (change.large !== undefined) this.large = change.large;
		if (change.hidden !== undefined) this.hidden = change.hidden;
		try {
			localStorage.setItem(
				STORAGE_KEY,
				JSON.stringify({ corner: this.corner, large: this.large, hidden: this.hidden })
			);
		} catch {
			// Not remembered, still applied.
		}
	}
}
