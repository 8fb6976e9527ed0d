import { error } from '@sveltejs/kit';
import { replayProgressSchema } from '$lib/media/replay-progress.ts';
import { classAccess, may } from '$lib/server/class-access.ts';
import { platform } from '$lib/server/platform.ts';
import { getRecording } from '$lib/server/recordings/service.ts';
import type { RequestHandler } from './$types';

/**
 * The replay player's batches of seconds played. Signed-in viewers who may
 * watch this recording are counted; anyone else's batches are ignored.
 */
export const POST: RequestHandler = async ({ params, locals, request }) => {
	const parsed = replayProgressSchema.safeParse(await request.json().catch(() => null));
	if (!parsed.success) error(400, { message: 'error_generic' });
	if (!locals.user) return new Response(null, { status: 204 });
	const { db, accessFacts, attendance } = await platform();
	const rec = await getRecording(db, parsed.data.recordingId);
	if (!rec || rec.classId !== params.id || rec.status !== 'READY') {
		error(404, { message: 'error_not_found' });
	}
	const access = await classAccess(accessFacts, locals.user, params.id, {
		recordingVisibility: rec.visibility
	});
	if (!access || !may.watchReplay(access)) error(403, { message: 'error_forbidden' });
	const outcome = await attendance.recordReplay(params.id, locals.user.id, parsed.data.seconds);
	if (!outcome.ok) error(409, { message: 'error_generic' });
	return new Response(null, { status: 204 });
};
