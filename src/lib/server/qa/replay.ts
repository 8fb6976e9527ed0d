import type { Db } from '../db/client.ts';
import { publicView, questionInclude } from './views.ts';

/** Questions as replay shows them: visible ones, in the order they were asked. */
export async function listForReplay(db: Db, classId: string) {
	const cls = await db.policyClass.findUnique({
		where: { id: classId },
		select: { id: true, title: true, wentLiveAt: true, status: true }
	});
	if (!cls) return null;
	const rows = await db.question.findMany({
		where: { classId, status: 'VISIBLE' },
		include: questionInclude,
		orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
	});
	return {
		classId,
		title: cls.title,
		status: cls.status,
		wentLiveAt: cls.wentLiveAt?.toISOString() ?? null,
		questions: rows.map(publicView)
	};
}
