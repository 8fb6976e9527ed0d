import { error, fail } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard.ts';
import { classAccess, may, mayDownloadMaterial } from '$lib/server/class-access.ts';
import { countWaitlisted, getClass, getMyRegistration } from '$lib/server/classes.ts';
import { platform } from '$lib/server/platform.ts';
import { freeSeats, reservedSeatsOpen } from '$lib/server/registration.ts';
import { listRecordings } from '$lib/server/recordings/service.ts';
import { throttled } from '$lib/server/throttle-reply.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals }) => {
	const { db, accessFacts, materials } = await platform();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	const user = locals.user;
	const [waitlisted, registration, access] = await Promise.all([
		countWaitlisted(db, cls.id),
		user ? getMyRegistration(db, cls.id, user.id) : null,
		classAccess(accessFacts, user, cls.id)
	]);
	if (!access) error(404, { message: 'class_not_found' });
	const canWatchReplay = may.watchReplay(access);
	// Replay block: registrants and managers see every recording; others the public ones.
	const recordings = (await listRecordings(db, cls.id)).filter(
		(r) => canWatchReplay || r.visibility === 'PUBLIC'
	);
	const now = new Date();
	// 爱心专座 still held: everyone sees how many are left, priority users may take them.
	const reserved = reservedSeatsOpen(cls, now);
	const free = freeSeats(cls);
	const priority = user?.priorityService ?? false;
	const files = await materials.list(cls.id);
	const downloadable = files.filter((f) => mayDownloadMaterial(access, f));
	return {
		materials: downloadable,
		hiddenMaterials: files.length - downloadable.length,
		canManageMaterials: may.manageMaterials(access),
		canRate: may.rate(access),
		recordings,
		cls,
		waitlisted,
		registration,
		canManage: may.manage(access),
		canWatch: may.watchLive(access),
		canFollow: access.level === 'readonly',
		canPresent: may.present(access),
		reserved,
		reservedForYou: priority && reserved !== null && reserved.left > 0,
		// Past the release time every free seat is anyone's, released or about to be.
		seatsLeft: reserved
			? free.general + (priority ? free.reserved : 0)
			: Math.max(0, cls.capacity - cls.confirmedCount),
		canInterpret: may.interpret(access),
		now
	};
};

export const actions: Actions = {
	register: async ({ params, locals, url }) => {
		const user = requireUser(locals, url);
		const { registrations, throttles } = await platform();
		const wait = await throttles.registration.take(user.id);
		if (wait) return throttled(wait);
		const outcome = await registrations.register(params.id, user.id);
		if (!outcome.ok) return fail(409, { refusal: outcome.reason });
		return { registered: outcome.status };
	},
	cancel: async ({ params, locals, url }) => {
		const user = requireUser(locals, url);
		const { registrations, throttles } = await platform();
		const wait = await throttles.registration.take(user.id);
		if (wait) return throttled(wait);
		const outcome = await registrations.cancel(params.id, user.id);
		if (!outcome.ok) return fail(409, { refusal: outcome.reason });
		return { cancelled: true };
	}
};
