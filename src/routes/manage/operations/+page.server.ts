import { BUREAU_STAFF, requireRole } from '$lib/server/auth/guard.ts';
import { liveClassPlacements, unfinishedRecordings } from '$lib/server/operations.ts';
import { platform } from '$lib/server/platform.ts';
import type { PageServerLoad } from './$types';

/** Which process runs what: every app process's last report, and where each live class is. */
export const load: PageServerLoad = async ({ locals, url }) => {
	requireRole(locals, url, BUREAU_STAFF);
	const { db, instances } = await platform();
	// This process's own report is made fresh; the others are at most a beat old.
	await instances.beat();
	const [reports, recordings] = await Promise.all([instances.list(), unfinishedRecordings(db)]);
	return {
		self: instances.id,
		intervalSeconds: instances.intervalMs / 1000,
		instances: reports,
		classes: await liveClassPlacements(db, reports),
		recordings
	};
};
