import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import type { AxeResults, RunOptions } from 'axe-core';

/**
 * Accessibility checks run inside a real page: axe-core (the npm package,
 * injected into the page), and the measurements axe does not make: text size
 * and target size in 关怀模式, and reflow at narrow widths.
 */
const axeSource = fs.readFileSync(
	createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
	'utf8'
);

export type AxeProblem = { rule: string; impact: string; help: string; nodes: string[] };

/**
 * axe's serious and critical findings. `care` adds the AAA contrast rule
 * (7:1), which 关怀模式 promises.
 */
export async function axeProblems(page: Page, care: boolean): Promise<AxeProblem[]> {
	// Evaluated through DevTools, so the page's CSP (no inline scripts) stays as it is.
	if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
	const options: RunOptions = {
		rules: {
			'color-contrast-enhanced': { enabled: care },
			'target-size': { enabled: true }
		},
		resultTypes: ['violations']
	};
	const results = await page.evaluate(
		(opts) =>
			(window as unknown as { axe: { run: (o: RunOptions) => Promise<AxeResults> } }).axe.run(opts),
		options
	);
	return results.violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => ({
			rule: v.id,
			impact: v.impact ?? '',
			help: v.help,
			nodes: v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary ?? ''}`.slice(0, 300))
		}));
}

/** Visible text smaller than `minPx`, and visible controls smaller than `minTarget` on a side. */
export function careSizeProblems(page: Page, minPx = 20, minTarget = 44): Promise<string[]> {
	return page.evaluate(
		({ minPx, minTarget }) => {
			const problems: string[] = [];
			const shown = (el: Element) => {
				const style = getComputedStyle(el);
				const box = el.getBoundingClientRect();
				return style.visibility !== 'hidden' && box.width > 0 && box.height > 0 && box.right > 0;
			};
			const describe = (el: Element) =>
				`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${[...el.classList].map((c) => `.${c}`).join('')}`;
			const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
			for (let node = walker.nextNode(); node; node = walker.nextNode()) {
				const text = node.textContent?.trim();
				const parent = node.parentElement;
				if (!text || !parent || !shown(parent)) continue;
				const size = parseFloat(getComputedStyle(parent).fontSize);
				if (size < minPx)
					problems.push(`text ${size}px in ${describe(parent)}: "${text.slice(0, 30)}"`);
			}
			const controls = document.querySelectorAll(
				'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'
			);
			for (const el of controls) {
				if (!shown(el)) continue;
				const { width, height } = el.getBoundingClientRect();
				if (width < minTarget - 0.5 || height < minTarget - 0.5) {
					problems.push(
						`target ${Math.round(width)}×${Math.round(height)} ${describe(el)}: "${(el.textContent ?? '').trim().slice(0, 30)}"`
					);
				}
			}
			return problems;
		},
		{ minPx, minTarget }
	);
}

/**
 * Content wider than the viewport at `width` CSS px: the elements that stick
 * out (none when the page reflows). Data tables scroll inside their own box.
 */
export async function reflowProblems(page: Page, width: number): Promise<string[]> {
	const before = page.viewportSize();
	await page.setViewportSize({ width, height: 800 });
	try {
		return await page.evaluate(async () => {
			await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
			const limit = document.documentElement.clientWidth + 1;
			if (document.documentElement.scrollWidth <= limit) return [];
			const wide: string[] = [];
			for (const el of document.body.querySelectorAll('*')) {
				const box = el.getBoundingClientRect();
				if (box.right > limit && box.width > 0) {
					wide.push(
						`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${Math.round(box.right)}`
					);
				}
			}
			return [`page is ${document.documentElement.scrollWidth}px wide`, ...wide.slice(0, 8)];
		});
	} finally {
		if (before) await page.setViewportSize(before);
	}
}
