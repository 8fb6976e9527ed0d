import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard.ts';
import { getClass } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/db/client.ts';
import { canWatchClass } from '$lib/server/live-status.ts';
import { getMediaServer } from '$lib/server/media/media-service.ts';
import type { PageServerLoad } from './$types';

/** The live player: CONFIRMED registrants, the instructor, staff and admins. */
export const load: PageServerLoad = async ({ params, locals, url }) => {
	const user = requireUser(locals, url);
	const db = await getDb();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	if (!(await canWatchClass(db, user, cls))) error(403, { message: 'error_forbidden' });
	const over = cls.status === 'ENDED' || cls.status === 'CANCELLED';
	// Lets the player load its Device while signaling connects. Without it
	// (media server not started yet), the join reply carries the same.
	const routerRtpCapabilities: unknown = over
		? null
		: await getMediaServer().then(
				(media) => media.routerRtpCapabilities,
				() => null
			);
	return {
		routerRtpCapabilities,
		cls: {
			id: cls.id,
			title: cls.title,
			status: cls.status,
			instructorName: cls.instructor.displayName
		}
	};
};
