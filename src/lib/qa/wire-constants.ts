/**
 * Plain values of the Q&A wire protocol (protocol.ts), apart from its zod
 * schemas: browser code that needs only these does not load zod with them.
 */
export const QA_NAMESPACE = '/qa';
export const QUESTION_MAX = 500;
export const ANSWER_MAX = 2000;
