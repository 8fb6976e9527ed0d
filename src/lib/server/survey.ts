import type { Db } from './db/client.ts';

/**
 * 满意度评价: one response per person and class, 1-5 stars for content,
 * instructor and audio/video quality, and an optional comment. Sending it
 * again within 7 days of the first answer changes that answer; after that it
 * is kept as it was. Who may answer is `may.rate` (class-access.ts).
 */

export const SURVEY_EDIT_DAYS = 7;

export type SurveyAnswer = {
	content: number;
	instructor: number;
	avQuality: number;
	comment: string | null;
};

export type SurveyOutcome =
	{ ok: true; created: boolean } | { ok: false; reason: 'survey_edit_closed' };

export type SurveyResponseView = SurveyAnswer & { createdAt: Date; editableUntil: Date };

const editableUntil = (createdAt: Date) =>
	new Date(createdAt.getTime() + SURVEY_EDIT_DAYS * 24 * 3600_000);

export async function getSurveyResponse(
	db: Db,
	classId: string,
	userId: string
): Promise<SurveyResponseView | null> {
	const row = await db.surveyResponse.findUnique({
		where: { classId_userId: { classId, userId } },
		select: { content: true, instructor: true, avQuality: true, comment: true, createdAt: true }
	});
	return row ? { ...row, editableUntil: editableUntil(row.createdAt) } : null;
}

/** Saves an answer: the first one, or a change to it while it may still be changed. */
export async function submitSurvey(
	db: Db,
	classId: string,
	userId: string,
	answer: SurveyAnswer,
	now = new Date()
): Promise<SurveyOutcome> {
	const since = new Date(now.getTime() - SURVEY_EDIT_DAYS * 24 * 3600_000);
	const rows = await db.$queryRaw<{ created: boolean }[]>`
		INSERT INTO survey_response
			(id, class_id, user_id, content, instructor, av_quality, comment, created_at, updated_at)
		VALUES (gen_random_uuid()::text, ${classId}, ${userId}, ${answer.content}, ${answer.instructor},
		        ${answer.avQuality}, ${answer.comment}, ${now}, ${now})
		ON CONFLICT (class_id, user_id) DO UPDATE
		   SET content = EXCLUDED.content, instructor = EXCLUDED.instructor,
		       av_quality = EXCLUDED.av_quality, comment = EXCLUDED.comment,
		       updated_at = EXCLUDED.updated_at
		 WHERE survey_response.created_at > ${since}
		RETURNING (xmax = 0) AS created`;
	const row = rows[0];
	if (!row) return { ok: false, reason: 'survey_edit_closed' };
	return { ok: true, created: row.created };
}

/** Which of these ended classes the user has answered, and until when they may change it. */
export async function surveyStates(
	db: Db,
	userId: string,
	classIds: string[]
): Promise<Map<string, { editableUntil: Date }>> {
	if (classIds.length === 0) return new Map();
	const rows = await db.surveyResponse.findMany({
		where: { userId, classId: { in: classIds } },
		select: { classId: true, createdAt: true }
	});
	return new Map(rows.map((r) => [r.classId, { editableUntil: editableUntil(r.createdAt) }]));
}
