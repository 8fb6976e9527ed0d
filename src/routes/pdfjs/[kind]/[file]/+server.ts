import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { error } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

/**
 * The data files pdf.js loads beside its code, from the installed pdfjs-dist:
 * CMaps for PDFs whose Chinese fonts are not embedded, the standard fonts,
 * and its WebAssembly decoders. Same origin, so the page's CSP allows them.
 */
const FOLDERS = new Set(['cmaps', 'standard_fonts', 'wasm', 'iccs']);
const root = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));

export const GET: RequestHandler = async ({ params }) => {
	if (!FOLDERS.has(params.kind) || !/^[\w-]+(\.[\w-]+)+$/.test(params.file)) {
		error(404, { message: 'error_not_found' });
	}
	const body = await fs.readFile(path.join(root, params.kind, params.file)).catch(() => null);
	if (!body) error(404, { message: 'error_not_found' });
	return new Response(new Uint8Array(body), {
		headers: {
			'content-type': params.file.endsWith('.wasm')
				? 'application/wasm'
				: 'application/octet-stream',
			'cache-control': 'public, max-age=86400'
		}
	});
};
