import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard.ts';
import { may } from '$lib/server/class-access.ts';
import { requireClassAccess } from '$lib/server/class-guard.ts';
import { getClass } from '$lib/server/classes.ts';
import { platform } from '$lib/server/platform.ts';
import { getSurveyResponse } from '$lib/server/survey.ts';
import type { PageServerLoad } from './$types';

/**
 * The live player: CONFIRMED registrants, the instructor, staff and admins
 * watch; a waitlisted registrant waits here and starts watching as soon as a
 * seat comes free.
 */
export const load: PageServerLoad = async ({ params, locals, url }) => {
	const access = await requireClassAccess(locals, url, params.id, may.followQa);
	const { db, media } = await platform();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	const over = cls.status === 'ENDED' || cls.status === 'CANCELLED';
	// Lets the player load its Device while signaling connects. Without it
	// (media server not started yet), the join reply carries the same.
	const routerRtpCapabilities: unknown = over
		? null
		: await media().then(
				(server) => server.routerRtpCapabilities,
				() => null
			);
	// The player starts from the HTML, before the page's own code has loaded.
	if (!over) locals.earlyStart = { classId: cls.id, routerRtpCapabilities };
	const askSurvey =
		may.beAskedToRate(access) &&
		!(await getSurveyResponse(db, cls.id, requireUser(locals, url).id));
	return {
		routerRtpCapabilities,
		askSurvey,
		waitlisted: access.level === 'readonly',
		cls: {
			id: cls.id,
			title: cls.title,
			status: cls.status,
			instructorName: cls.instructor.displayName
		}
	};
};
