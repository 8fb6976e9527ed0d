import type { Prisma } from '../db/generated/client.ts';
import type { QaRole, QuestionView } from '../../qa/protocol.ts';

/**
 * What each audience sees of a question: pure projections of a stored row.
 * Staff see who asked (anonymous or not, 爱心通道 or not); everyone else
 * sees the public view, their own pending questions, and only that a
 * question was hidden.
 */
export const questionInclude = {
	author: { select: { displayName: true, priorityService: true } },
	answeredBy: { select: { displayName: true } },
	claimedBy: { select: { displayName: true } }
} satisfies Prisma.QuestionInclude;

export type QuestionRow = Prisma.QuestionGetPayload<{ include: typeof questionInclude }>;

/** The view everyone may see (anonymous authors stay anonymous). */
export function publicView(q: QuestionRow): QuestionView {
	return {
		id: q.id,
		version: q.version,
		status: q.status,
		text: q.text,
		authorName: q.anonymous ? null : q.author.displayName,
		voteCount: q.voteCount,
		pinned: q.pinned,
		offsetMs: q.offsetMs,
		answerText: q.answerText,
		answeredLive: q.answeredLive,
		answeredByName: q.answeredBy?.displayName ?? null,
		answeredAt: q.answeredAt?.toISOString() ?? null,
		answerOffsetMs: q.answerOffsetMs,
		createdAt: q.createdAt.toISOString()
	};
}

export function staffView(q: QuestionRow): QuestionView {
	return {
		...publicView(q),
		staff: {
			authorId: q.authorId,
			realName: q.author.displayName,
			anonymous: q.anonymous,
			priority: q.author.priorityService,
			claimedById: q.claimedById,
			claimedByName: q.claimedBy?.displayName ?? null
		}
	};
}

/** A hidden question as non-staff learn of it: only that it is gone. */
export function redactedView(q: QuestionRow): QuestionView {
	return {
		id: q.id,
		version: q.version,
		status: 'HIDDEN',
		text: '',
		authorName: null,
		voteCount: 0,
		pinned: false,
		offsetMs: null,
		answerText: null,
		answeredLive: false,
		answeredByName: null,
		answeredAt: null,
		answerOffsetMs: null,
		createdAt: q.createdAt.toISOString()
	};
}

/**
 * What one recipient may see of a question; null for nothing. Non-staff see
 * visible questions, their own pending ones, and (in deltas only) that a
 * question was hidden.
 */
export function viewFor(
	q: QuestionRow,
	viewer: { role: QaRole; userId: string },
	delta: boolean
): QuestionView | null {
	if (viewer.role === 'moderator') return staffView(q);
	if (q.status === 'VISIBLE') return publicView(q);
	if (q.status === 'PENDING' && q.authorId === viewer.userId) return publicView(q);
	if (q.status === 'HIDDEN' && delta) return redactedView(q);
	return null;
}
