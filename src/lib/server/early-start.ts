import fs from 'node:fs';
import path from 'node:path';
import { base } from '$app/paths';
import { EARLY_START_META_NAME, type EarlyStart } from '$lib/media/early-start.ts';
import { escapeHtml } from './html.ts';
import { builtClientDir } from './platform.ts';

/** Where app.html takes the early start's tags (nothing on other pages). */
const PLACEHOLDER = '%tc.early%';

/** The early viewer's chunk and the chunks it imports, as the build named them. */
type EarlyChunks = { file: string; imports: string[] };

let chunks: EarlyChunks | null | undefined;

/** Read once; null under the dev server, whose modules have no fixed names. */
function earlyChunks(): EarlyChunks | null {
	if (chunks === undefined) chunks = readEarlyChunks();
	return chunks;
}

function readEarlyChunks(): EarlyChunks | null {
	const dir = builtClientDir();
	if (!dir) return null;
	try {
		return JSON.parse(fs.readFileSync(path.join(dir, '_app/early-viewer.json'), 'utf8'));
	} catch (error) {
		console.warn('[watch] the early viewer script is not in the build:', String(error));
		return null;
	}
}

/**
 * Puts the watch page's early start into its HTML: the class and the router
 * capabilities as JSON in a <meta> (data, not an inline script, so the CSP has
 * nothing to allow), the early viewer script, and preloads of the chunks it
 * imports, all ahead of the page's own scripts. Other pages, and the dev
 * server, get nothing.
 */
export function withEarlyStart(html: string, start: EarlyStart | undefined): string {
	const found = start && earlyChunks();
	if (!found) return html.replace(PLACEHOLDER, '');
	const tags = [
		`<meta name="${EARLY_START_META_NAME}" content="${escapeHtml(JSON.stringify(start))}" />`,
		`<script type="module" async src="${base}/${found.file}"></script>`,
		...found.imports.map((file) => `<link rel="modulepreload" href="${base}/${file}" />`)
	];
	return html.replace(PLACEHOLDER, tags.join('\n\t\t'));
}

/**
 * SvelteKit names every script of the page in a Link header, which the browser
 * fetches before it reads the HTML: the early viewer's scripts go first there.
 */
export function preloadEarlyStartFirst(
	response: Response,
	start: EarlyStart | undefined
): Response {
	const found = start && earlyChunks();
	if (!found) return response;
	const early = [found.file, ...found.imports].map(
		(file) => `<${base}/${file}>; rel="modulepreload"; nopush`
	);
	const rest = response.headers.get('link');
	response.headers.set('link', [...early, ...(rest ? [rest] : [])].join(', '));
	return response;
}
