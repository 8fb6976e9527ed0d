import { z } from '../zod.ts';
import { ANSWER_MAX, QUESTION_MAX } from './wire-constants.ts';

/**
 * Wire protocol of the live Q&A namespace ('/qa'), shared by the server and the
 * browser client. Every state change carries the class's sequence number; a
 * question's `version` is the seq of the last event that changed it, so clients
 * apply snapshots idempotently and resync by asking for `version > lastSeq`.
 * Its plain values live in wire-constants.ts, so browser code can read them
 * without loading zod; they are re-exported here for the server.
 */
export { ANSWER_MAX, QA_NAMESPACE, QUESTION_MAX } from './wire-constants.ts';

type Ack<T> = (reply: T) => void;

/** Client → server; both are acknowledged. */
export interface QaClientEvents {
	/** Join a class's Q&A; `lastSeq` asks for only what changed since. */
	'qa:join': (payload: z.input<typeof joinSchema>, ack: Ack<JoinReply>) => void;
	'qa:action': (payload: QaAction, ack: Ack<ActionReply>) => void;
}

/** Server → client. */
export interface QaServerEvents {
	'qa:event': (event: QaEvent) => void;
	/** What I may do in the class changed: join again to learn my new role. */
	'qa:access': (event: { classId: string }) => void;
	/** My session ended (signed out, expired): the connection closes. */
	'session:ended': (event: Record<string, never>) => void;
}

export type QuestionStatus = 'PENDING' | 'VISIBLE' | 'HIDDEN';
export type QaRole = 'moderator' | 'participant' | 'readonly';

/** What moderators see in addition to the public view. */
export type QuestionStaffView = {
	authorId: string;
	realName: string;
	anonymous: boolean;
	priority: boolean;
	claimedById: string | null;
	claimedByName: string | null;
};

export type QuestionView = {
	id: string;
	version: number;
	status: QuestionStatus;
	text: string;
	/** null when asked anonymously (shown as 匿名纳税人), or for a hidden question. */
	authorName: string | null;
	voteCount: number;
	pinned: boolean;
	offsetMs: number | null;
	answerText: string | null;
	answeredLive: boolean;
	answeredByName: string | null;
	answeredAt: string | null;
	answerOffsetMs: number | null;
	createdAt: string;
	staff?: QuestionStaffView;
};

/** Pushed to clients as 'qa:event'. */
export type QaEvent = {
	classId: string;
	seq: number;
	questions: QuestionView[];
	preModeration?: boolean;
};

/** Reply to 'qa:join'. `full` snapshots replace the client's state; others are deltas. */
export type JoinReply =
	| {
			ok: true;
			classId: string;
			role: QaRole;
			userId: string;
			seq: number;
			full: boolean;
			preModeration: boolean;
			questions: QuestionView[];
			myVotes: string[];
			myQuestions: string[];
	  }
	| { ok: false; error: string; params?: Record<string, string | number> };

export type ActionReply =
	| { ok: true; seq: number; question?: QuestionView }
	| { ok: false; error: string; params?: Record<string, string | number> };

const id = z.uuid();

export const joinSchema = z.object({
	classId: id,
	lastSeq: z.number().int().min(0).nullable().optional()
});

export const questionTextSchema = z
	.string()
	.trim()
	.min(1, 'qa_error_empty')
	.max(QUESTION_MAX, 'qa_error_too_long');

export const answerTextSchema = z
	.string()
	.trim()
	.min(1, 'qa_error_empty')
	.max(ANSWER_MAX, 'qa_error_answer_too_long');

/** Free text as it arrives; NUL cannot be typed and PostgreSQL text cannot hold it. */
const typed = (max: number) =>
	z
		.string()
		.max(max)
		.transform((v) => v.replaceAll('\0', ''));

export const actionSchema = z.discriminatedUnion('type', [
	z.object({
		type: z.literal('ask'),
		classId: id,
		text: typed(QUESTION_MAX * 4),
		anonymous: z.boolean().default(false)
	}),
	z.object({ type: z.literal('vote'), classId: id, questionId: id }),
	z.object({
		type: z.enum(['approve', 'hide', 'unhide', 'pin', 'unpin', 'claim', 'release', 'answeredLive']),
		classId: id,
		questionId: id
	}),
	z.object({
		type: z.literal('answer'),
		classId: id,
		questionId: id,
		text: typed(ANSWER_MAX * 4)
	}),
	z.object({ type: z.literal('settings'), classId: id, preModeration: z.boolean() })
]);

export type QaAction = z.input<typeof actionSchema>;
export type QaActionParsed = z.infer<typeof actionSchema>;
