import { error, fail } from '@sveltejs/kit';
import { canManageClass, requireUser } from '$lib/server/auth/guard.ts';
import { countWaitlisted, getClass, getMyRegistration } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/db/client.ts';
import { canPublish, mayWatch } from '$lib/server/live-status.ts';
import { listRecordings } from '$lib/server/recordings/service.ts';
import { cancelRegistration, register } from '$lib/server/registration.ts';
import { reauthorizeUser } from '$lib/server/realtime/reauthorize.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals }) => {
	const db = await getDb();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	const [waitlisted, registration] = await Promise.all([
		countWaitlisted(db, cls.id),
		locals.user ? getMyRegistration(db, cls.id, locals.user.id) : null
	]);
	const user = locals.user;
	const canWatch = user !== null && mayWatch(user, cls, registration?.status);
	// Replay block: registrants and managers see every recording; others the public ones.
	const recordings = (await listRecordings(db, cls.id)).filter(
		(r) => canWatch || r.visibility === 'PUBLIC'
	);
	return {
		recordings,
		cls,
		waitlisted,
		registration,
		canManage: user ? canManageClass(user, cls) : false,
		canWatch,
		canPresent: user !== null && canPublish(user, cls),
		now: new Date()
	};
};

export const actions: Actions = {
	register: async ({ params, locals, url }) => {
		const user = requireUser(locals, url);
		const outcome = await register(await getDb(), params.id, user.id);
		if (!outcome.ok) return fail(409, { refusal: outcome.reason });
		return { registered: outcome.status };
	},
	cancel: async ({ params, locals, url }) => {
		const user = requireUser(locals, url);
		const outcome = await cancelRegistration(await getDb(), params.id, user.id);
		if (!outcome.ok) return fail(409, { refusal: outcome.reason });
		// No longer a participant: an open player or Q&A panel must ask again.
		reauthorizeUser(user.id);
		return { cancelled: true };
	}
};
