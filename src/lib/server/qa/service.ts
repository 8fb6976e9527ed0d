import { randomUUID } from 'node:crypto';
import type { SessionUser } from '../auth/session.ts';
import type { Db } from '../db/client.ts';
import { Prisma } from '../db/generated/client.ts';
import {
	answerTextSchema,
	questionTextSchema,
	type QaActionParsed,
	type QaRole,
	type QuestionView
} from '../../qa/protocol.ts';
import { memoryRateLimiters, type RateLimiter, type RateLimiterFactory } from './rate-limit.ts';

/** A refusal the client shows as the i18n message `key` (all keys start with qa_). */
export class QaError extends Error {
	constructor(
		readonly key: string,
		readonly params?: Record<string, string | number>
	) {
		super(key);
	}
}

export type QaAccess = { classId: string; role: QaRole; user: SessionUser };

/** One committed state change, ready to broadcast. */
export type QaChange = {
	classId: string;
	seq: number;
	preModeration: boolean;
	settingsChanged: boolean;
	questions: QuestionRow[];
};

export type QaLimits = {
	questionsPerMinute: number;
	votesPerMinute: number;
	/** A claim older than this no longer blocks other staff. */
	claimTtlMs: number;
};

export const DEFAULT_LIMITS: QaLimits = {
	questionsPerMinute: 3,
	votesPerMinute: 30,
	claimTtlMs: 10 * 60_000
};

const questionInclude = {
	author: { select: { displayName: true, priorityService: true } },
	answeredBy: { select: { displayName: true } },
	claimedBy: { select: { displayName: true } }
} satisfies Prisma.QuestionInclude;

export type QuestionRow = Prisma.QuestionGetPayload<{ include: typeof questionInclude }>;

const MAX_OFFSET_MS = 2_147_483_647;

/**
 * Who may take part in a class's Q&A:
 * - moderators: STAFF, ADMIN and the class's own instructor;
 * - participants (ask and vote): taxpayers with a CONFIRMED registration;
 * - read-only: a WAITLISTED registration (they may be let in, so they can follow
 *   the questions, but only people with a seat ask and vote).
 * Cancelled classes have no Q&A; everyone else is refused.
 */
export async function resolveAccess(
	db: Db,
	user: SessionUser,
	classId: string
): Promise<QaAccess | null> {
	const cls = await db.policyClass.findUnique({
		where: { id: classId },
		select: { instructorId: true, status: true }
	});
	if (!cls || cls.status === 'CANCELLED') return null;
	if (user.role === 'STAFF' || user.role === 'ADMIN' || user.id === cls.instructorId) {
		return { classId, role: 'moderator', user };
	}
	const registration = await db.registration.findFirst({
		where: { classId, userId: user.id, status: { in: ['CONFIRMED', 'WAITLISTED'] } },
		select: { status: true }
	});
	if (!registration) return null;
	return { classId, role: registration.status === 'CONFIRMED' ? 'participant' : 'readonly', user };
}

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

type Tx = Prisma.TransactionClient;
type Ctx = {
	tx: Tx;
	seq: number;
	preModeration: boolean;
	classStatus: string;
	now: Date;
	/** ms since the class went live, or null when it is not live. */
	offsetMs: number | null;
	settingsChanged: boolean;
};

export class QaService {
	readonly limits: QaLimits;
	private readonly questionLimiter: RateLimiter;
	private readonly voteLimiter: RateLimiter;
	/** Per-class chain: changes of one class commit and broadcast in seq order in this process. */
	private readonly queues = new Map<string, Promise<unknown>>();
	/** Public full snapshot per class, valid while the class seq is unchanged. */
	private readonly publicSnapshots = new Map<
		string,
		{ seq: number; maxSeq: number; questions: QuestionView[] }
	>();

	constructor(
		readonly db: Db,
		limits: Partial<QaLimits> = {},
		private readonly clock: () => number = Date.now,
		rateLimiters: RateLimiterFactory = memoryRateLimiters
	) {
		this.limits = { ...DEFAULT_LIMITS, ...limits };
		this.questionLimiter = rateLimiters('questions', this.limits.questionsPerMinute, 60_000);
		this.voteLimiter = rateLimiters('votes', this.limits.votesPerMinute, 60_000);
	}

	/**
	 * Apply one action. `publish` runs after the commit, still inside the class's
	 * queue, so broadcasts leave this process in seq order.
	 */
	async apply(
		access: QaAccess,
		action: QaActionParsed,
		publish: (change: QaChange) => void | Promise<void>
	): Promise<QaChange> {
		await this.precheck(access, action);
		return this.enqueue(access.classId, async () => {
			const change =
				action.type === 'ask'
					? await this.ask(access, action.text.trim(), action.anonymous)
					: await this.mutate(access.classId, (ctx) => this.run(ctx, access, action));
			await publish(change);
			return change;
		});
	}

	/** Validation and rate limits, before the class's queue. */
	private async precheck(access: QaAccess, action: QaActionParsed) {
		const now = this.clock();
		const userId = access.user.id;
		switch (action.type) {
			case 'ask': {
				if (access.role === 'readonly') throw new QaError('qa_error_readonly');
				const parsed = questionTextSchema.safeParse(action.text);
				if (!parsed.success) {
					throw new QaError(parsed.error.issues[0]?.message ?? 'qa_error_empty', {
						max: 500
					});
				}
				const wait = await this.questionLimiter.take(userId, now);
				if (wait) {
					throw new QaError('qa_error_rate_questions', {
						limit: this.limits.questionsPerMinute,
						seconds: Math.ceil(wait / 1000)
					});
				}
				return;
			}
			case 'vote': {
				if (access.role === 'readonly') throw new QaError('qa_error_readonly');
				const wait = await this.voteLimiter.take(userId, now);
				if (wait) {
					throw new QaError('qa_error_rate_votes', {
						limit: this.limits.votesPerMinute,
						seconds: Math.ceil(wait / 1000)
					});
				}
				return;
			}
			default:
				if (access.role !== 'moderator') throw new QaError('qa_error_forbidden');
				if (action.type === 'answer') {
					const parsed = answerTextSchema.safeParse(action.text);
					if (!parsed.success) {
						throw new QaError(parsed.error.issues[0]?.message ?? 'qa_error_empty', {
							max: 2000
						});
					}
				}
		}
	}

	private enqueue<T>(classId: string, task: () => Promise<T>): Promise<T> {
		const previous = this.queues.get(classId) ?? Promise.resolve();
		const result = previous.then(task, task);
		const tail = result.catch(() => undefined);
		this.queues.set(classId, tail);
		void tail.then(() => {
			if (this.queues.get(classId) === tail) this.queues.delete(classId);
		});
		return result;
	}

	/**
	 * One transaction: take the class row lock while bumping its seq (this also
	 * orders writers in other processes), make the change, read back the rows.
	 * A QaError thrown inside rolls the seq back too.
	 */
	private async mutate(classId: string, fn: (ctx: Ctx) => Promise<string[]>): Promise<QaChange> {
		return this.db.$transaction(async (tx) => {
			const rows = await tx.$queryRaw<
				{ qa_seq: number; qa_pre_moderation: boolean; status: string; went_live_at: Date | null }[]
			>`UPDATE policy_class SET qa_seq = qa_seq + 1 WHERE id = ${classId}
				RETURNING qa_seq, qa_pre_moderation, status::text AS status, went_live_at`;
			const row = rows[0];
			if (!row) throw new QaError('qa_error_not_found');
			const now = new Date(this.clock());
			const wentLiveAt = row.went_live_at ? new Date(row.went_live_at) : null;
			const ctx: Ctx = {
				tx,
				seq: Number(row.qa_seq),
				preModeration: row.qa_pre_moderation,
				classStatus: row.status,
				now,
				offsetMs:
					row.status === 'LIVE' && wentLiveAt
						? Math.min(MAX_OFFSET_MS, Math.max(0, now.getTime() - wentLiveAt.getTime()))
						: null,
				settingsChanged: false
			};
			const ids = await fn(ctx);
			const questions = ids.length
				? await tx.question.findMany({
						where: { id: { in: ids } },
						include: questionInclude,
						orderBy: { createdAt: 'asc' }
					})
				: [];
			return {
				classId,
				seq: ctx.seq,
				preModeration: ctx.preModeration,
				settingsChanged: ctx.settingsChanged,
				questions
			};
		});
	}

	/**
	 * The hottest write as one statement (one round trip instead of an interactive
	 * transaction): bump the class seq under its row lock, only while the class is
	 * open, and insert the question with that seq and its class-time offset.
	 */
	private async ask(access: QaAccess, text: string, anonymous: boolean): Promise<QaChange> {
		const id = randomUUID();
		const nowMs = this.clock();
		const moderator = access.role === 'moderator';
		const rows = await this.db.$queryRaw<
			{ qa_seq: number; qa_pre_moderation: boolean; status: string; offset_ms: number | null }[]
		>`
			WITH s AS (
				UPDATE policy_class SET qa_seq = qa_seq + 1
				WHERE id = ${access.classId} AND status IN ('SCHEDULED', 'LIVE')
				RETURNING qa_seq, qa_pre_moderation, status, went_live_at
			), ins AS (
				INSERT INTO question
					(id, class_id, author_id, text, anonymous, status, offset_ms, version, created_at, updated_at)
				SELECT ${id}, ${access.classId}, ${access.user.id}, ${text}, ${anonymous},
					(CASE WHEN s.qa_pre_moderation AND NOT ${moderator} THEN 'PENDING' ELSE 'VISIBLE' END)::"QuestionStatus",
					CASE WHEN s.status = 'LIVE' AND s.went_live_at IS NOT NULL
						THEN LEAST(${MAX_OFFSET_MS}::bigint, GREATEST(0::bigint,
							(${nowMs}::bigint - (EXTRACT(EPOCH FROM s.went_live_at) * 1000)::bigint)))::int
						ELSE NULL END,
					s.qa_seq,
					to_timestamp(${nowMs}::bigint / 1000.0) AT TIME ZONE 'UTC',
					to_timestamp(${nowMs}::bigint / 1000.0) AT TIME ZONE 'UTC'
				FROM s
				RETURNING status::text AS status, offset_ms
			)
			SELECT s.qa_seq, s.qa_pre_moderation, ins.status, ins.offset_ms FROM s JOIN ins ON true`;
		const row = rows[0];
		if (!row) {
			const exists = await this.db.policyClass.count({ where: { id: access.classId } });
			throw new QaError(exists ? 'qa_error_closed' : 'qa_error_not_found');
		}
		// Everything about the new row is known here: no read-back round trip.
		const createdAt = new Date(nowMs);
		const question: QuestionRow = {
			id,
			classId: access.classId,
			authorId: access.user.id,
			text,
			anonymous,
			status: row.status as QuestionRow['status'],
			voteCount: 0,
			pinned: false,
			offsetMs: row.offset_ms === null ? null : Number(row.offset_ms),
			answerText: null,
			answeredLive: false,
			answeredById: null,
			answeredAt: null,
			answerOffsetMs: null,
			claimedById: null,
			claimedAt: null,
			version: Number(row.qa_seq),
			createdAt,
			updatedAt: createdAt,
			author: {
				displayName: access.user.displayName,
				priorityService: access.user.priorityService
			},
			answeredBy: null,
			claimedBy: null
		};
		return {
			classId: access.classId,
			seq: Number(row.qa_seq),
			preModeration: row.qa_pre_moderation,
			settingsChanged: false,
			questions: [question]
		};
	}

	private async run(ctx: Ctx, access: QaAccess, action: QaActionParsed): Promise<string[]> {
		const { tx, seq } = ctx;
		const me = access.user.id;
		const open = ctx.classStatus === 'SCHEDULED' || ctx.classStatus === 'LIVE';

		if (action.type === 'ask') throw new Error('asks go through QaService.ask');
		if (action.type === 'settings') {
			await tx.policyClass.update({
				where: { id: access.classId },
				data: { qaPreModeration: action.preModeration }
			});
			ctx.preModeration = action.preModeration;
			ctx.settingsChanged = true;
			return [];
		}

		const q = await tx.question.findFirst({
			where: { id: action.questionId, classId: access.classId }
		});
		if (!q) throw new QaError('qa_error_not_found');
		const claimedByOther =
			q.claimedById !== null &&
			q.claimedById !== me &&
			q.claimedAt !== null &&
			ctx.now.getTime() - q.claimedAt.getTime() < this.limits.claimTtlMs;
		const claimHolder = async () => {
			const holder = await tx.user.findUnique({
				where: { id: q.claimedById! },
				select: { displayName: true }
			});
			return new QaError('qa_error_claimed', { name: holder?.displayName ?? '' });
		};
		const update = (data: Prisma.QuestionUncheckedUpdateInput) =>
			tx.question.update({ where: { id: q.id }, data: { ...data, version: seq } });

		switch (action.type) {
			case 'vote': {
				if (!open) throw new QaError('qa_error_closed');
				if (q.status !== 'VISIBLE') throw new QaError('qa_error_not_found');
				if (q.authorId === me) throw new QaError('qa_error_own_question');
				const inserted = await tx.questionVote.createMany({
					data: [{ questionId: q.id, userId: me }],
					skipDuplicates: true
				});
				if (inserted.count === 0) throw new QaError('qa_error_already_voted');
				await update({ voteCount: { increment: 1 } });
				return [q.id];
			}
			case 'approve':
				if (q.status !== 'PENDING') throw new QaError('qa_error_stale');
				await update({ status: 'VISIBLE' });
				return [q.id];
			case 'unhide':
				if (q.status !== 'HIDDEN') throw new QaError('qa_error_stale');
				await update({ status: 'VISIBLE' });
				return [q.id];
			case 'hide':
				if (q.status === 'HIDDEN') throw new QaError('qa_error_stale');
				await update({ status: 'HIDDEN', pinned: false, claimedById: null, claimedAt: null });
				return [q.id];
			case 'pin': {
				if (q.status !== 'VISIBLE') throw new QaError('qa_error_not_found');
				const others = await tx.question.findMany({
					where: { classId: access.classId, pinned: true, id: { not: q.id } },
					select: { id: true }
				});
				const otherIds = others.map((o) => o.id);
				if (otherIds.length) {
					await tx.question.updateMany({
						where: { id: { in: otherIds } },
						data: { pinned: false, version: seq }
					});
				}
				await update({ pinned: true });
				return [...otherIds, q.id];
			}
			case 'unpin':
				if (!q.pinned) throw new QaError('qa_error_stale');
				await update({ pinned: false });
				return [q.id];
			case 'claim':
				if (q.answerText !== null) throw new QaError('qa_error_already_answered');
				if (q.status === 'HIDDEN') throw new QaError('qa_error_not_found');
				if (claimedByOther) throw await claimHolder();
				await update({ claimedById: me, claimedAt: ctx.now });
				return [q.id];
			case 'release':
				if (claimedByOther) throw await claimHolder();
				if (q.claimedById === null) throw new QaError('qa_error_stale');
				await update({ claimedById: null, claimedAt: null });
				return [q.id];
			case 'answer':
			case 'answeredLive': {
				if (q.status === 'HIDDEN') throw new QaError('qa_error_not_found');
				if (claimedByOther) throw await claimHolder();
				const already = action.type === 'answer' ? q.answerText !== null : q.answeredLive;
				if (already) throw new QaError('qa_error_already_answered');
				await update({
					...(action.type === 'answer'
						? { answerText: action.text.trim() }
						: { answeredLive: true }),
					// Answering approves a question that was waiting for moderation.
					status: 'VISIBLE',
					answeredById: q.answeredById ?? me,
					answeredAt: q.answeredAt ?? ctx.now,
					answerOffsetMs: q.answeredAt ? q.answerOffsetMs : ctx.offsetMs,
					claimedById: null,
					claimedAt: null
				});
				return [q.id];
			}
		}
	}

	/**
	 * What a (re)joining client needs: everything when lastSeq is null (or from
	 * another epoch), else only questions changed after lastSeq.
	 */
	async snapshot(access: QaAccess, lastSeq: number | null | undefined) {
		const { classId } = access;
		const cls = await this.db.policyClass.findUnique({
			where: { id: classId },
			select: { qaSeq: true, qaPreModeration: true }
		});
		if (!cls) throw new QaError('qa_error_not_found');
		const delta = lastSeq !== null && lastSeq !== undefined && lastSeq <= cls.qaSeq;
		const viewer = { role: access.role, userId: access.user.id };
		const [mine, votes] = await Promise.all([
			this.db.question.findMany({
				where: { classId, authorId: access.user.id },
				include: questionInclude,
				orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
			}),
			this.db.questionVote.findMany({
				where: { userId: access.user.id, question: { classId } },
				select: { questionId: true }
			})
		]);
		let questions: QuestionView[];
		if (!delta && access.role !== 'moderator') {
			// A class start brings everyone at once: share the public list per class seq.
			let cached = this.publicSnapshots.get(classId);
			if (!cached || cached.seq !== cls.qaSeq) {
				const rows = await this.db.question.findMany({
					where: { classId, status: 'VISIBLE' },
					include: questionInclude,
					orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
				});
				cached = {
					seq: cls.qaSeq,
					maxSeq: Math.max(cls.qaSeq, ...rows.map((r) => r.version)),
					questions: rows.map(publicView)
				};
				this.publicSnapshots.set(classId, cached);
			}
			const own = mine.filter((q) => q.status === 'PENDING').map(publicView);
			questions = own.length
				? [...cached.questions, ...own].sort((a, b) => a.createdAt.localeCompare(b.createdAt))
				: cached.questions;
			return {
				seq: cached.maxSeq,
				full: true,
				preModeration: cls.qaPreModeration,
				questions,
				myVotes: votes.map((v) => v.questionId),
				myQuestions: mine.map((q) => q.id)
			};
		}
		const rows = await this.db.question.findMany({
			where: { classId, ...(delta ? { version: { gt: lastSeq } } : {}) },
			include: questionInclude,
			orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
		});
		questions = rows
			.map((r) => viewFor(r, viewer, delta))
			.filter((v): v is QuestionView => v !== null);
		return {
			seq: Math.max(cls.qaSeq, ...rows.map((r) => r.version)),
			full: !delta,
			preModeration: cls.qaPreModeration,
			questions,
			myVotes: votes.map((v) => v.questionId),
			myQuestions: mine.map((q) => q.id)
		};
	}
}

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

/** Cells that start like a formula are prefixed so spreadsheets show them as text. */
function csvCell(value: string | number | boolean | null): string {
	let text = value === null ? '' : String(value);
	if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
	return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Every question of a class, hidden and pending included, for staff. */
export async function questionsCsv(db: Db, classId: string, headers: string[]): Promise<string> {
	const rows = await db.question.findMany({
		where: { classId },
		include: questionInclude,
		orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
	});
	const lines = [headers.map(csvCell).join(',')];
	for (const q of rows) {
		lines.push(
			[
				q.createdAt.toISOString(),
				q.offsetMs === null ? null : Math.round(q.offsetMs / 1000),
				q.status,
				q.author.displayName,
				q.anonymous,
				q.author.priorityService,
				q.voteCount,
				q.text,
				q.answerText,
				q.answeredLive,
				q.answeredBy?.displayName ?? null,
				q.answeredAt?.toISOString() ?? null,
				q.answerOffsetMs === null ? null : Math.round(q.answerOffsetMs / 1000)
			]
				.map(csvCell)
				.join(',')
		);
	}
	// BOM so spreadsheet programs read the UTF-8 Chinese text correctly.
	return '\uFEFF' + lines.join('\r\n') + '\r\n';
}
