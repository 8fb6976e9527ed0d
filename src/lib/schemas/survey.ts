import { z } from '../zod.ts';

/** Whole stars from 1 to 5: a missing rating and one out of range each get their message. */
const stars = z
	.string({ message: 'survey_rating_required' })
	.min(1, 'survey_rating_required')
	.pipe(
		z.coerce
			.number<string>({ message: 'survey_rating_range' })
			.int('survey_rating_range')
			.min(1, 'survey_rating_range')
			.max(5, 'survey_rating_range')
	);

export const surveySchema = z.object({
	content: stars,
	instructor: stars,
	avQuality: stars,
	comment: z
		.string()
		.trim()
		.max(1000, 'survey_comment_too_long')
		.default('')
		.transform((v) => v || null)
});
