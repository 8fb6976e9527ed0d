import { toCsv } from '../csv.ts';
import type { Db } from '../db/client.ts';
import { questionInclude } from './views.ts';

const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 1000));
const yesNo = (value: boolean, yes: string, no: string) => (value ? yes : no);

/**
 * Every question of a class, hidden and pending included, for staff: the
 * shared CSV writer (UTF-8 with BOM, formula-safe). `labels` are the column
 * heads and the yes/no words, in the reader's language.
 */
export async function questionsCsv(
	db: Db,
	classId: string,
	labels: { headers: string[]; yes: string; no: string }
): Promise<string> {
	const rows = await db.question.findMany({
		where: { classId },
		include: questionInclude,
		orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
	});
	const { yes, no } = labels;
	return toCsv(
		labels.headers,
		rows.map((q) => [
			q.createdAt.toISOString(),
			seconds(q.offsetMs),
			q.status,
			q.author.displayName,
			yesNo(q.anonymous, yes, no),
			yesNo(q.author.priorityService, yes, no),
			q.voteCount,
			q.text,
			q.answerText,
			yesNo(q.answeredLive, yes, no),
			q.answeredBy?.displayName ?? null,
			q.answeredAt?.toISOString() ?? null,
			seconds(q.answerOffsetMs)
		])
	);
}
