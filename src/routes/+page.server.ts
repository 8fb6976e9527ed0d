import { z } from 'zod';
import { listSchedule, listTopics } from '$lib/server/classes.ts';
import { nextClassFor } from '$lib/server/next-class.ts';
import { getDb } from '$lib/server/platform.ts';
import { withoutNul } from '$lib/schemas/form.ts';
import { parseCstDate } from '$lib/time.ts';
import type { PageServerLoad } from './$types';

const DAY_MS = 24 * 3600_000;

// Unknown or malformed filter values are ignored rather than failing the page.
const filterSchema = z.object({
	q: z.string().max(100).transform(withoutNul).catch(''),
	topic: z.string().max(40).transform(withoutNul).catch(''),
	format: z.enum(['ONLINE', 'IN_PERSON', 'HYBRID']).optional().catch(undefined),
	from: z.string().catch(''),
	to: z.string().catch(''),
	past: z.literal('on').optional().catch(undefined),
	/** The schedule itself, in 关怀模式 where the home is "my next class". */
	view: z.literal('all').optional().catch(undefined)
});

export const load: PageServerLoad = async ({ url, locals }) => {
	const filter = filterSchema.parse(Object.fromEntries(url.searchParams));
	const db = await getDb();
	// 关怀模式 home: one class and one big button, unless the schedule was asked for.
	if (locals.careMode && locals.user && url.search === '') {
		const careHome = { next: await nextClassFor(db, locals.user.id) };
		return { careHome, classes: [], topics: [], filter, registered: [] };
	}
	const from = parseCstDate(filter.from) ?? undefined;
	const toStart = parseCstDate(filter.to);
	const [classes, topics] = await Promise.all([
		listSchedule(db, {
			q: filter.q,
			topic: filter.topic || undefined,
			format: filter.format,
			from,
			// "To" is inclusive of that whole day.
			to: toStart ? new Date(toStart.getTime() + DAY_MS) : undefined,
			includePast: filter.past === 'on'
		}),
		listTopics(db)
	]);
	// Where to offer the live room button ("进入直播间") as a class draws near.
	const registered = locals.user
		? (
				await db.registration.findMany({
					where: {
						userId: locals.user.id,
						status: 'CONFIRMED',
						classId: { in: classes.map((c) => c.id) }
					},
					select: { classId: true }
				})
			).map((r) => r.classId)
		: [];
	return { careHome: null, classes, topics, filter, registered };
};
