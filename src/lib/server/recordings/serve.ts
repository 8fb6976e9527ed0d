import fs from 'node:fs';
import { Readable } from 'node:stream';

/**
 * A file as an HTTP response honouring a single Range (206/416), so browsers
 * can seek in a replay without downloading it all.
 */
export async function serveFile(
	file: string,
	request: Request,
	contentType: string
): Promise<Response> {
	const stat = await fs.promises.stat(file).catch(() => null);
	if (!stat?.isFile()) return new Response('Not found', { status: 404 });
	const size = stat.size;
	const headers = new Headers({
		'content-type': contentType,
		'accept-ranges': 'bytes',
		// Authorization is checked per request, so shared caches must not keep it.
		'cache-control': 'private, no-cache',
		'last-modified': stat.mtime.toUTCString()
	});
	const range = request.headers.get('range');
	let start = 0;
	let end = size - 1;
	let status = 200;
	if (range) {
		const parsed = parseRange(range, size);
		if (parsed === 'unsatisfiable') {
			headers.set('content-range', `bytes */${size}`);
			return new Response(null, { status: 416, headers });
		}
		if (parsed) {
			[start, end] = parsed;
			status = 206;
			headers.set('content-range', `bytes ${start}-${end}/${size}`);
		}
	}
	headers.set('content-length', String(end - start + 1));
	if (request.method === 'HEAD' || size === 0) return new Response(null, { status, headers });
	const stream = fs.createReadStream(file, { start, end });
	return new Response(Readable.toWeb(stream) as ReadableStream, { status, headers });
}

/**
 * One byte range: [start, end] inclusive, 'unsatisfiable', or null to ignore
 * the header (malformed or multi-range, answered with the whole file).
 */
export function parseRange(
	header: string,
	size: number
): [number, number] | 'unsatisfiable' | null {
	const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
	if (!match) return null;
	const [, from, to] = match;
	if (from === '' && to === '') return null;
	if (from === '') {
		const suffix = Number(to);
		if (suffix === 0) return 'unsatisfiable';
		return [Math.max(0, size - suffix), size - 1];
	}
	const start = Number(from);
	const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
	if (start >= size || end < start) return 'unsatisfiable';
	return [start, end];
}
