import path from 'node:path';
import { error } from '@sveltejs/kit';
import { WITH_INTERPRETER_FILE } from '../../../../media-server/src/index.ts';
import { platform } from '../platform.ts';
import { getRecording, recordingAccess, resolveInRoot } from './service.ts';
import { serveFile } from './serve.ts';

/**
 * GET/HEAD of a recording's MP4 (plain, or with the sign-language
 * interpreter overlaid) or poster: authorization on every request
 * (a non-public recording only for registrants, the instructor, staff and
 * admins), then the file with Range support.
 */
export async function serveRecordingFile(
	locals: App.Locals,
	request: Request,
	id: string,
	which: 'media' | 'poster' | 'interpreter'
): Promise<Response> {
	const { db, accessFacts } = await platform();
	const rec = await getRecording(db, id);
	if (!rec) error(404, { message: 'rec_none' });
	const access = await recordingAccess(accessFacts, locals.user, rec.policyClass, rec.visibility);
	if (access === 'none') error(403, { message: 'error_forbidden' });
	const relative = {
		media: rec.filePath,
		poster: rec.posterPath,
		interpreter: rec.filePath && path.join(rec.dir, WITH_INTERPRETER_FILE)
	}[which];
	if (rec.status !== 'READY' || !relative) error(404, { message: 'rec_none' });
	return serveFile(
		resolveInRoot(relative),
		request,
		which === 'poster' ? 'image/jpeg' : 'video/mp4'
	);
}
