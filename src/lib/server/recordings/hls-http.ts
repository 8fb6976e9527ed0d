import fs from 'node:fs';
import { Readable } from 'node:stream';
import { error } from '@sveltejs/kit';
import { platform } from '../platform.ts';
import { noteHlsViewer } from './audience.ts';
import { getRecording, recordingAccess, resolveInRoot, type ViewerAccess } from './service.ts';

/**
 * HLS of a recording, live or finished: the two playlists and the MPEG-TS
 * segments under the recording's folder. Every request is authorized like
 * the replay MP4 (registrants, the class's staff, or anyone when public).
 * Live viewers reload a playlist every second, so the recording row is
 * remembered for a few seconds (access facts and sessions are cached by the
 * platform already, and dropped by the events that change them).
 */

const FILE = /^(index|live)\.m3u8$|^run-\d{4}\/seg-\d{5}\.ts$/;
const REMEMBER_MS = 5000;

type Recording = NonNullable<Awaited<ReturnType<typeof getRecording>>>;
const recordings = new Map<string, { at: number; rec: Recording | null }>();

function fresh<T extends { at: number }>(map: Map<string, T>, key: string): T | undefined {
	const hit = map.get(key);
	if (hit && Date.now() - hit.at < REMEMBER_MS) return hit;
	map.delete(key);
	if (map.size > 10_000) map.clear();
	return undefined;
}

async function recordingFor(id: string): Promise<Recording | null> {
	const hit = fresh(recordings, id);
	if (hit) return hit.rec;
	const rec = await getRecording((await platform()).db, id);
	recordings.set(id, { at: Date.now(), rec });
	return rec;
}

/** The recording and what the user may do with it. */
export async function hlsAccess(
	user: App.Locals['user'],
	id: string
): Promise<{ rec: Recording; access: ViewerAccess } | null> {
	const rec = await recordingFor(id);
	if (!rec) return null;
	const { accessFacts } = await platform();
	const access = await recordingAccess(accessFacts, user, rec.policyClass, rec.visibility);
	return { rec, access };
}

export async function serveRecordingHls(
	locals: App.Locals,
	request: Request,
	id: string,
	file: string,
	viewerKey: string
): Promise<Response> {
	if (!FILE.test(file)) error(404, { message: 'rec_none' });
	const found = await hlsAccess(locals.user, id);
	if (!found) error(404, { message: 'rec_none' });
	const { rec, access } = found;
	if (access === 'none') error(403, { message: 'error_forbidden' });
	if (rec.status !== 'RECORDING' && !(rec.status === 'READY' && rec.playlistPath)) {
		error(404, { message: 'rec_none' });
	}
	const path = resolveInRoot(`${rec.dir}/${file}`);
	const stat = await fs.promises.stat(path).catch(() => null);
	if (!stat?.isFile()) error(404, { message: 'rec_none' });
	const playlist = file.endsWith('.m3u8');
	const live = rec.status === 'RECORDING';
	if (playlist && live && access !== 'manage') noteHlsViewer(rec.policyClass.id, viewerKey);
	const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
	const headers = new Headers({
		'content-type': playlist ? 'application/vnd.apple.mpegurl' : 'video/mp2t',
		'cache-control': cacheControl(rec.visibility === 'PUBLIC', playlist, live),
		etag,
		'last-modified': stat.mtime.toUTCString()
	});
	if (request.headers.get('if-none-match') === etag) {
		return new Response(null, { status: 304, headers });
	}
	headers.set('content-length', String(stat.size));
	if (request.method === 'HEAD') return new Response(null, { headers });
	return new Response(Readable.toWeb(fs.createReadStream(path)) as ReadableStream, { headers });
}

/**
 * Segments never change once listed, so any cache may keep them; a shared
 * cache (CDN) only for a public recording, since the others are per user.
 * A live playlist changes every segment: a CDN may keep a public one for a
 * second (it then answers thousands of reloads with one), a browser
 * revalidates its own copy (a 304) each time.
 */
function cacheControl(isPublic: boolean, playlist: boolean, live: boolean): string {
	const scope = isPublic ? 'public' : 'private';
	if (!playlist) return `${scope}, max-age=31536000, immutable`;
	if (!live) return `${scope}, max-age=60`;
	return isPublic ? 'public, max-age=1' : 'private, no-cache';
}
