import { error } from '@sveltejs/kit';
import { getDb } from '$lib/server/platform.ts';
import { classToIcs } from '$lib/server/ics.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ params, url }) => {
	const db = await getDb();
	const cls = await db.policyClass.findUnique({ where: { id: params.id } }).catch(() => null);
	if (!cls) error(404, { message: 'class_not_found' });
	const body = classToIcs(cls, `${url.origin}/classes/${cls.id}`, url.hostname);
	return new Response(body, {
		headers: {
			'content-type': 'text/calendar; charset=utf-8',
			'content-disposition': `attachment; filename="class-${cls.id}.ics"`
		}
	});
};
