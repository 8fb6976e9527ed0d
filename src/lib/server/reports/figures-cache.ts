import type { Db } from '../db/client.ts';
import { classFigures, type ClassFigures } from './figures.ts';

/**
 * The figures of ended classes for the cross-class report, kept in
 * class_figures: computing them merges every live interval of every class,
 * seconds per request over a year, while an ended class's figures rarely
 * change (replay seconds, late survey answers).
 *
 * A class's stored figures are used only while they are fresh: no write to
 * the rows they are computed from since (the migration's triggers bump
 * `changes` on every such write, whatever writes it), and the class's live
 * window and instructor as they were. Others are computed as before and stored.
 *
 * Why it stays exact with concurrent writers: `changes` is read before the
 * figures are computed and stored with them as `computed_changes`. A write
 * the computation missed committed after that read, in the same transaction
 * as its bump, so `changes` has moved past what was stored; the store never
 * sets `changes` itself, and the triggers upsert, so a class with no row yet
 * is covered too. The class's window and instructor are likewise stored as
 * read before computing. At worst a class is computed again needlessly.
 */

type CachedRow = {
	id: string;
	title: string;
	topics: string[];
	starts_at: Date;
	instructor_id: string;
	instructor_name: string;
	went_live_at: Date | null;
	ended_at: Date | null;
	/** As text: JSON has no bigint. */
	changes: string;
	fresh: boolean | null;
	registered: number | null;
	attended_live: number | null;
	watched_replay: number | null;
	live_seconds: number | null;
	replay_seconds: number | null;
	questions_asked: number | null;
	questions_answered: number | null;
	responses: number | null;
	content_sum: number | null;
	instructor_sum: number | null;
	av_quality_sum: number | null;
	priority_user_ids: string[] | null;
};

function cachedFigures(r: CachedRow): ClassFigures {
	return {
		classId: r.id,
		title: r.title,
		instructorId: r.instructor_id,
		instructorName: r.instructor_name,
		topics: r.topics,
		startsAt: new Date(r.starts_at),
		registered: r.registered ?? 0,
		attendedLive: r.attended_live ?? 0,
		watchedReplay: r.watched_replay ?? 0,
		liveSeconds: r.live_seconds ?? 0,
		replaySeconds: r.replay_seconds ?? 0,
		questionsAsked: r.questions_asked ?? 0,
		questionsAnswered: r.questions_answered ?? 0,
		responses: r.responses ?? 0,
		ratingSums: {
			content: r.content_sum ?? 0,
			instructor: r.instructor_sum ?? 0,
			avQuality: r.av_quality_sum ?? 0
		},
		priorityUserIds: r.priority_user_ids ?? []
	};
}

/** Stores freshly computed figures with the `changes` and class values read before computing. */
async function store(db: Db, computed: { read: CachedRow; figures: ClassFigures }[]) {
	// A class still open at its end (no ended_at) is measured up to now: nothing to keep.
	const kept = computed.filter((c) => c.read.ended_at !== null);
	if (kept.length === 0) return;
	const rows = JSON.stringify(
		kept.map(({ read, figures: f }) => ({
			class_id: read.id,
			changes: read.changes,
			live_from: read.went_live_at,
			live_to: read.ended_at,
			instructor_id: read.instructor_id,
			registered: f.registered,
			attended_live: f.attendedLive,
			watched_replay: f.watchedReplay,
			live_seconds: f.liveSeconds,
			replay_seconds: f.replaySeconds,
			questions_asked: f.questionsAsked,
			questions_answered: f.questionsAnswered,
			responses: f.responses,
			content_sum: f.ratingSums.content,
			instructor_sum: f.ratingSums.instructor,
			av_quality_sum: f.ratingSums.avQuality,
			priority_user_ids: f.priorityUserIds
		}))
	);
	// Dates go through JSON as UTC ISO strings; a timestamp column ignores the
	// zone, which is what Prisma stores. `changes` is left to the triggers.
	await db.$executeRaw`
		INSERT INTO class_figures (
			class_id, changes, computed_changes, live_from, live_to, instructor_id,
			registered, attended_live, watched_replay, live_seconds, replay_seconds,
			questions_asked, questions_answered, responses, content_sum, instructor_sum,
			av_quality_sum, priority_user_ids)
		SELECT x.class_id, x.changes, x.changes, x.live_from, x.live_to, x.instructor_id,
		       x.registered, x.attended_live, x.watched_replay, x.live_seconds, x.replay_seconds,
		       x.questions_asked, x.questions_answered, x.responses, x.content_sum, x.instructor_sum,
		       x.av_quality_sum, x.priority_user_ids
		FROM jsonb_to_recordset(${rows}::jsonb) AS x(
			class_id text, changes bigint, live_from timestamp(3), live_to timestamp(3),
			instructor_id text, registered int, attended_live int, watched_replay int,
			live_seconds float8, replay_seconds float8, questions_asked int,
			questions_answered int, responses int, content_sum int, instructor_sum int,
			av_quality_sum int, priority_user_ids text[])
		-- A class deleted meanwhile is not stored (nor would its foreign key allow it).
		WHERE EXISTS (SELECT 1 FROM policy_class c WHERE c.id = x.class_id)
		ON CONFLICT (class_id) DO UPDATE SET
			computed_changes = excluded.computed_changes,
			live_from = excluded.live_from,
			live_to = excluded.live_to,
			instructor_id = excluded.instructor_id,
			registered = excluded.registered,
			attended_live = excluded.attended_live,
			watched_replay = excluded.watched_replay,
			live_seconds = excluded.live_seconds,
			replay_seconds = excluded.replay_seconds,
			questions_asked = excluded.questions_asked,
			questions_answered = excluded.questions_answered,
			responses = excluded.responses,
			content_sum = excluded.content_sum,
			instructor_sum = excluded.instructor_sum,
			av_quality_sum = excluded.av_quality_sum,
			priority_user_ids = excluded.priority_user_ids`;
}

/** Figures of the ENDED classes that started in [from, to), by start. */
export async function endedClassFigures(
	db: Db,
	from: Date,
	to: Date,
	now = new Date()
): Promise<ClassFigures[]> {
	const rows = await db.$queryRaw<CachedRow[]>`
		SELECT c.id, c.title, c.topics, c.starts_at, c.instructor_id, u.display_name AS instructor_name,
		       c.went_live_at, c.ended_at, COALESCE(f.changes, 0)::text AS changes,
		       f.computed_changes = f.changes
		           AND f.live_from IS NOT DISTINCT FROM c.went_live_at
		           AND f.live_to = c.ended_at
		           AND f.instructor_id = c.instructor_id AS fresh,
		       f.registered, f.attended_live, f.watched_replay, f.live_seconds, f.replay_seconds,
		       f.questions_asked, f.questions_answered, f.responses, f.content_sum,
		       f.instructor_sum, f.av_quality_sum, f.priority_user_ids
		FROM policy_class c
		JOIN app_user u ON u.id = c.instructor_id
		LEFT JOIN class_figures f ON f.class_id = c.id
		WHERE c.status = 'ENDED' AND c.starts_at >= ${from} AND c.starts_at < ${to}
		ORDER BY c.starts_at, c.id`;
	const stale = rows.filter((r) => !r.fresh);
	const computed =
		stale.length > 0
			? await classFigures(
					db,
					stale.map((r) => r.id),
					now
				)
			: [];
	const computedOf = new Map(computed.map((f) => [f.classId, f]));
	await store(
		db,
		stale.flatMap((read) => {
			const figures = computedOf.get(read.id);
			return figures ? [{ read, figures }] : [];
		})
	);
	// A stale class deleted before it was computed is left out, as it would have been a moment later.
	return rows.flatMap((r) => {
		if (r.fresh) return [cachedFigures(r)];
		const figures = computedOf.get(r.id);
		return figures ? [figures] : [];
	});
}
