import { randomUUID } from 'node:crypto';
import type { SessionUser } from '../auth/session.ts';
import type { Db } from '../db/client.ts';
import { Prisma } from '../db/generated/client.ts';
import {
	answerTextSchema,
	questionTextSchema,
	type JoinReply,
	type QaActionParsed,
	type QaRole,
	type QuestionView
} from '../../qa/protocol.ts';
import { publicView, questionInclude, viewFor, type QuestionRow } from './views.ts';
import { recordAudit, type AuditAction } from '../audit.ts';
import { classAccess, may, type AccessFactsSource } from '../class-access.ts';
import { GroupCommit } from '../group-commit.ts';
import type { Throttles } from '../throttle.ts';

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

/** What an action did, and the question it was about (or asked). */
export type Applied = { change: QaChange; question?: QuestionRow };

/** What 'qa:join' replies with besides who the client is. */
export type Snapshot = Omit<Extract<JoinReply, { ok: true }>, 'ok' | 'classId' | 'role' | 'userId'>;

type PendingAsk = {
	access: QaAccess;
	text: string;
	anonymous: boolean;
	/** When it arrived, ms: its time, and its place in the class's timeline. */
	atMs: number;
	resolve: (applied: Applied) => void;
	reject: (error: unknown) => void;
};

export type QaLimits = {
	/** A claim older than this no longer blocks other staff. */
	claimTtlMs: number;
};

export const DEFAULT_LIMITS: QaLimits = { claimTtlMs: 10 * 60_000 };

const MAX_OFFSET_MS = 2_147_483_647;

/**
 * A user's Q&A role in a class, from the class access function: managers
 * moderate, participants ask and vote, waitlisted registrants and registrants
 * of an ended class read. Everyone else (a cancelled class's registrants
 * included) has no Q&A.
 */
export async function resolveAccess(
	facts: AccessFactsSource,
	user: SessionUser,
	classId: string
): Promise<QaAccess | null> {
	const access = await classAccess(facts, user, classId);
	if (!access || !may.followQa(access)) return null;
	const role: QaRole = may.manage(access)
		? 'moderator'
		: may.ask(access)
			? 'participant'
			: 'readonly';
	return { classId, role, user };
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
	/** The question the action is about, once loaded. */
	subject?: { id: string; text: string };
};

/** Moderation that goes into the audit log. */
const AUDITED: Partial<Record<QaActionParsed['type'], AuditAction>> = {
	approve: 'question.approved',
	hide: 'question.hidden',
	unhide: 'question.unhidden',
	answer: 'question.answered',
	answeredLive: 'question.answered_live'
};

export class QaService {
	readonly limits: QaLimits;
	/** Per-class chain: changes of one class commit and broadcast in seq order in this process. */
	private readonly queues = new Map<string, Promise<unknown>>();
	/** Public full snapshot per class, valid while the class seq is unchanged. */
	private readonly publicSnapshots = new Map<
		string,
		{ seq: number; maxSeq: number; questions: QuestionView[] }
	>();

	/** Asks waiting for their class's next batch. */
	readonly #asks = new Map<string, PendingAsk[]>();

	constructor(
		readonly db: Db,
		private readonly throttles: Pick<Throttles, 'qaQuestion' | 'qaVote'>,
		/** Broadcasts a committed change; runs inside the class's queue, so in seq order. */
		private readonly publish: (change: QaChange) => void | Promise<void>,
		limits: Partial<QaLimits> = {},
		private readonly clock: () => number = Date.now
	) {
		this.limits = { ...DEFAULT_LIMITS, ...limits };
	}

	/**
	 * Apply one action; resolves with the committed change and the question the
	 * caller acted on (or asked). Changes of one class commit, and are
	 * published, in seq order.
	 */
	async apply(access: QaAccess, action: QaActionParsed): Promise<Applied> {
		await this.precheck(access, action);
		if (action.type === 'ask') {
			return this.#queueAsk({
				access,
				text: action.text.trim(),
				anonymous: action.anonymous,
				atMs: this.clock()
			});
		}
		return this.enqueue(access.classId, async () => {
			const change = await this.mutate(access.classId, async (ctx) => {
				const ids = await this.run(ctx, access, action);
				const audited = AUDITED[action.type];
				if (audited && ctx.subject) {
					await recordAudit(ctx.tx, {
						actor: access.user,
						action: audited,
						target: { type: 'question', id: ctx.subject.id, label: ctx.subject.text },
						classId: access.classId,
						at: ctx.now
					});
				}
				return ids;
			});
			await this.publish(change);
			const own =
				'questionId' in action
					? change.questions.find((q) => q.id === action.questionId)
					: undefined;
			return { change, question: own };
		});
	}

	/**
	 * Group commit for questions: asks for a class that arrive while its
	 * previous change is being written wait together, and go into the
	 * database in one statement and out to each audience in one event.
	 */
	#queueAsk(ask: Omit<PendingAsk, 'resolve' | 'reject'>): Promise<Applied> {
		return new Promise((resolve, reject) => {
			const classId = ask.access.classId;
			const pending = this.#asks.get(classId);
			if (pending) return void pending.push({ ...ask, resolve, reject });
			this.#asks.set(classId, [{ ...ask, resolve, reject }]);
			void this.enqueue(classId, async () => {
				const batch = this.#asks.get(classId) ?? [];
				this.#asks.delete(classId);
				try {
					const change = await this.insertAsks(classId, batch);
					await this.publish(change);
					batch.forEach((a, i) => a.resolve({ change, question: change.questions[i] }));
				} catch (err) {
					for (const a of batch) a.reject(err);
				}
			});
		});
	}

	/** Validation and rate limits, before the class's queue. */
	private async precheck(access: QaAccess, action: QaActionParsed) {
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
				const wait = await this.throttles.qaQuestion.take(userId);
				if (wait) {
					throw new QaError('qa_error_rate_questions', {
						limit: this.throttles.qaQuestion.policy.points,
						seconds: Math.ceil(wait / 1000)
					});
				}
				return;
			}
			case 'vote': {
				if (access.role === 'readonly') throw new QaError('qa_error_readonly');
				const wait = await this.throttles.qaVote.take(userId);
				if (wait) {
					throw new QaError('qa_error_rate_votes', {
						limit: this.throttles.qaVote.policy.points,
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
	 * The hottest write as one statement for a whole batch: bump the class seq
	 * by the batch's size under its row lock, only while the class is open,
	 * and insert the questions in arrival order with consecutive versions and
	 * their class-time offsets. Everything about the new rows is known here,
	 * so nothing is read back.
	 */
	private async insertAsks(classId: string, batch: PendingAsk[]): Promise<QaChange> {
		const ids = batch.map(() => randomUUID());
		const rows = await this.db.$queryRaw<
			{
				qa_seq: number;
				qa_pre_moderation: boolean;
				id: string;
				status: string;
				offset_ms: number | null;
				version: number;
			}[]
		>`
			WITH s AS (
				UPDATE policy_class SET qa_seq = qa_seq + ${batch.length}
				WHERE id = ${classId} AND status IN ('SCHEDULED', 'LIVE')
				RETURNING qa_seq, qa_pre_moderation, status, went_live_at
			), input AS (
				SELECT * FROM unnest(
					${ids}::text[],
					${batch.map((a) => a.access.user.id)}::text[],
					${batch.map((a) => a.text)}::text[],
					${batch.map((a) => a.anonymous)}::boolean[],
					${batch.map((a) => a.access.role === 'moderator')}::boolean[],
					${batch.map((a) => a.atMs)}::bigint[]
				) WITH ORDINALITY AS i(id, author_id, text, anonymous, moderator, at_ms, ord)
			), ins AS (
				INSERT INTO question
					(id, class_id, author_id, text, anonymous, status, offset_ms, version, created_at, updated_at)
				SELECT i.id, ${classId}, i.author_id, i.text, i.anonymous,
					(CASE WHEN s.qa_pre_moderation AND NOT i.moderator THEN 'PENDING' ELSE 'VISIBLE' END)::"QuestionStatus",
					CASE WHEN s.status = 'LIVE' AND s.went_live_at IS NOT NULL
						THEN LEAST(${MAX_OFFSET_MS}::bigint, GREATEST(0::bigint,
							(i.at_ms - (EXTRACT(EPOCH FROM s.went_live_at) * 1000)::bigint)))::int
						ELSE NULL END,
					s.qa_seq - ${batch.length} + i.ord,
					to_timestamp(i.at_ms / 1000.0) AT TIME ZONE 'UTC',
					to_timestamp(i.at_ms / 1000.0) AT TIME ZONE 'UTC'
				FROM s, input i
				RETURNING id, status::text AS status, offset_ms, version
			)
			SELECT s.qa_seq, s.qa_pre_moderation, ins.id, ins.status, ins.offset_ms, ins.version
			FROM s JOIN ins ON true`;
		if (rows.length === 0) {
			const exists = await this.db.policyClass.count({ where: { id: classId } });
			throw new QaError(exists ? 'qa_error_closed' : 'qa_error_not_found');
		}
		const byId = new Map(rows.map((r) => [r.id, r]));
		const questions = batch.map((a, i): QuestionRow => {
			const row = byId.get(ids[i]!)!;
			const createdAt = new Date(a.atMs);
			return {
				id: row.id,
				classId,
				authorId: a.access.user.id,
				text: a.text,
				anonymous: a.anonymous,
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
				version: Number(row.version),
				createdAt,
				updatedAt: createdAt,
				author: {
					displayName: a.access.user.displayName,
					priorityService: a.access.user.priorityService
				},
				answeredBy: null,
				claimedBy: null
			};
		});
		return {
			classId,
			seq: Number(rows[0]!.qa_seq),
			preModeration: rows[0]!.qa_pre_moderation,
			settingsChanged: false,
			questions
		};
	}

	private async run(ctx: Ctx, access: QaAccess, action: QaActionParsed): Promise<string[]> {
		const { tx, seq } = ctx;
		const me = access.user.id;
		const open = ctx.classStatus === 'SCHEDULED' || ctx.classStatus === 'LIVE';

		if (action.type === 'ask') throw new Error('asks go through QaService.insertAsks');
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
		ctx.subject = { id: q.id, text: q.text };
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
	async snapshot(access: QaAccess, lastSeq: number | null | undefined): Promise<Snapshot> {
		const { classId } = access;
		const participant = access.role !== 'moderator';
		if (participant && (lastSeq === null || lastSeq === undefined)) {
			return this.#participantSnapshots.add(classId, access.user.id);
		}
		const cls = await this.#qaState(classId);
		const delta = lastSeq !== null && lastSeq !== undefined && lastSeq <= cls.qaSeq;
		if (participant && !delta) return this.#participantSnapshots.add(classId, access.user.id);
		const viewer = { role: access.role, userId: access.user.id };
		const [rows, own] = await Promise.all([
			this.db.question.findMany({
				where: { classId, ...(delta ? { version: { gt: lastSeq } } : {}) },
				include: questionInclude,
				orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
			}),
			this.#ownActivity(classId, [access.user.id])
		]);
		return {
			seq: Math.max(cls.qaSeq, ...rows.map((r) => r.version)),
			full: !delta,
			preModeration: cls.qaPreModeration,
			questions: rows
				.map((r) => viewFor(r, viewer, delta))
				.filter((v): v is QuestionView => v !== null),
			...own.get(access.user.id)!
		};
	}

	/**
	 * Full snapshots for participants, read together for everyone who joins a
	 * class at once (the class start): one read of the class, of the public
	 * list (shared per class seq) and of the joiners' own questions and votes.
	 */
	readonly #participantSnapshots = new GroupCommit<string, Snapshot>(async (classId, userIds) => {
		const cls = await this.#qaState(classId);
		const [list, own] = await Promise.all([
			this.#publicList(classId, cls.qaSeq),
			this.#ownActivity(classId, userIds)
		]);
		return userIds.map((userId) => {
			const { myQuestions, myVotes, pending } = own.get(userId)!;
			return {
				seq: list.maxSeq,
				full: true,
				preModeration: cls.qaPreModeration,
				// Only its author (and staff) see a question waiting for approval.
				questions: pending.length
					? [...list.questions, ...pending].sort((a, b) => a.createdAt.localeCompare(b.createdAt))
					: list.questions,
				myVotes,
				myQuestions
			};
		});
	});

	/** The class's Q&A seq and moderation setting; a missing class is the client's error. */
	async #qaState(classId: string) {
		const cls = await this.db.policyClass.findUnique({
			where: { id: classId },
			select: { qaSeq: true, qaPreModeration: true }
		});
		if (!cls) throw new QaError('qa_error_not_found');
		return cls;
	}

	/** The public list of a class's questions, shared while the class seq is unchanged. */
	async #publicList(classId: string, seq: number) {
		const cached = this.publicSnapshots.get(classId);
		if (cached?.seq === seq) return cached;
		const rows = await this.db.question.findMany({
			where: { classId, status: 'VISIBLE' },
			include: questionInclude,
			orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
		});
		const list = {
			seq,
			maxSeq: Math.max(seq, ...rows.map((r) => r.version)),
			questions: rows.map(publicView)
		};
		this.publicSnapshots.set(classId, list);
		return list;
	}

	/** Each user's own questions (ids, and those still pending as views) and votes in a class. */
	async #ownActivity(classId: string, userIds: string[]) {
		const users = [...new Set(userIds)];
		const [mine, votes] = await Promise.all([
			this.db.question.findMany({
				where: { classId, authorId: { in: users } },
				include: questionInclude,
				orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
			}),
			this.db.questionVote.findMany({
				where: { userId: { in: users }, question: { classId } },
				select: { questionId: true, userId: true }
			})
		]);
		const own = new Map(
			users.map((id) => [
				id,
				{ myQuestions: [] as string[], myVotes: [] as string[], pending: [] as QuestionView[] }
			])
		);
		for (const q of mine) {
			const entry = own.get(q.authorId)!;
			entry.myQuestions.push(q.id);
			if (q.status === 'PENDING') entry.pending.push(publicView(q));
		}
		for (const v of votes) own.get(v.userId)!.myVotes.push(v.questionId);
		return own;
	}
}
