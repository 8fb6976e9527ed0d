import { error } from '@sveltejs/kit';
import { getDb } from '../db/client.ts';
import { getRecording, recordingAccess, resolveInRoot } from './service.ts';
import { serveFile } from './serve.ts';

/**
 * GET/HEAD of a recording's MP4 or poster: authorization on every request
 * (a non-public recording only for registrants, the instructor, staff and
 * admins), then the file with Range support.
 */
export async function serveRecordingFile(
	locals: App.Locals,
	request: Request,
	id: string,
	which: 'media' | 'poster'
): Promise<Response> {
	const db = await getDb();
	const rec = await getRecording(db, id);
	if (!rec) error(404, { message: 'rec_none' });
	const access = await recordingAccess(db, locals.user, rec.policyClass, rec.visibility);
	if (access === 'none') error(403, { message: 'error_forbidden' });
	const relative = which === 'media' ? rec.filePath : rec.posterPath;
	if (rec.status !== 'READY' || !relative) error(404, { message: 'rec_none' });
	return serveFile(
		resolveInRoot(relative),
		request,
		which === 'media' ? 'video/mp4' : 'image/jpeg'
	);
}
