/** What a survey rates, apart from its zod schema so the survey form does not load zod. */
export const SURVEY_DIMENSIONS = ['content', 'instructor', 'avQuality'] as const;
export type SurveyDimension = (typeof SURVEY_DIMENSIONS)[number];
