import { z } from 'zod';
import { listSchedule, listTopics } from '$lib/server/classes.ts';
import { getDb } from '$lib/server/db/client.ts';
import { parseCstDate } from '$lib/time.ts';
import type { PageServerLoad } from './$types';

const DAY_MS = 24 * 3600_000;

// Unknown or malformed filter values are ignored rather than failing the page.
const filterSchema = z.object({
	q: z.string().max(100).catch(''),
	topic: z.string().max(40).catch(''),
	format: z.enum(['ONLINE', 'IN_PERSON', 'HYBRID']).optional().catch(undefined),
	from: z.string().catch(''),
	to: z.string().catch(''),
	past: z.literal('on').optional().catch(undefined)
});

export const load: PageServerLoad = async ({ url }) => {
	const filter = filterSchema.parse(Object.fromEntries(url.searchParams));
	const db = await getDb();
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
	return { classes, topics, filter };
};
