import type { CDPSession, Page } from 'playwright-core';

/**
 * Driving a page by keyboard alone, reading what has focus from Chromium's
 * accessibility tree (the role and name a screen reader announces).
 */
export type Focused = { role: string; name: string; pressed?: string; focusVisible: boolean };

type AXValue = { value?: unknown };
type AXNode = {
	role?: AXValue;
	name?: AXValue;
	properties?: { name: string; value: AXValue }[];
};

export class Keyboard {
	/** Every stop the Tab key made, in order, for the report when a step fails. */
	readonly stops: Focused[] = [];

	private constructor(
		readonly page: Page,
		private readonly cdp: CDPSession
	) {}

	static async attach(page: Page): Promise<Keyboard> {
		const cdp = await page.context().newCDPSession(page);
		await cdp.send('Accessibility.enable');
		return new Keyboard(page, cdp);
	}

	/** The focused element as the accessibility tree has it. */
	async focused(): Promise<Focused | null> {
		const { nodes } = (await this.cdp.send('Accessibility.getFullAXTree')) as { nodes: AXNode[] };
		const node = nodes.find(
			(n) =>
				n.role?.value !== 'RootWebArea' &&
				n.properties?.some((p) => p.name === 'focused' && p.value.value === true)
		);
		if (!node) return null;
		const pressed = node.properties?.find((p) => p.name === 'pressed')?.value.value;
		const focusVisible = await this.page.evaluate(() => {
			const el = document.activeElement;
			if (!el || el === document.body) return false;
			const style = getComputedStyle(el);
			return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
		});
		return {
			role: String(node.role?.value ?? ''),
			name: String(node.name?.value ?? ''),
			...(pressed === undefined ? {} : { pressed: String(pressed) }),
			focusVisible
		};
	}

	/**
	 * Presses Tab (or Shift+Tab) until a control with this role and name has
	 * focus. Every stop on the way must have a name and a visible focus.
	 */
	async tabTo(role: string, name: RegExp, options: { backwards?: boolean; max?: number } = {}) {
		for (let i = 0; i < (options.max ?? 80); i++) {
			await this.page.keyboard.press(options.backwards ? 'Shift+Tab' : 'Tab');
			const stop = await this.focused();
			if (!stop) continue;
			this.stops.push(stop);
			if (!stop.name.trim()) throw new Error(`a ${stop.role} without a name has focus`);
			if (!stop.focusVisible)
				throw new Error(`focus is not visible on ${stop.role} "${stop.name}"`);
			if (stop.role === role && name.test(stop.name)) return stop;
		}
		const last = this.stops
			.slice(-15)
			.map((s) => `${s.role} "${s.name}"`)
			.join(', ');
		throw new Error(`no ${role} named ${name} within reach; last stops: ${last}`);
	}

	async press(key: string) {
		await this.page.keyboard.press(key);
	}

	async type(text: string) {
		await this.page.keyboard.type(text);
	}
}
