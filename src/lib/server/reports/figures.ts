import type { Db } from '../db/client.ts';
import { Prisma } from '../db/generated/client.ts';

/**
 * The figures the bureau reports, computed in the database from what was
 * recorded around each class.
 *
 * Definitions (the report pages say the same):
 * - audience: everyone but staff, admins and the class's own instructor;
 * - live watching: a person's live connections merged into intervals (a
 *   reconnect or a second tab counts once), cut to the time the class was live;
 * - attended live: a confirmed registrant who watched live or asked or voted
 *   in the Q&A while it was live;
 * - no-shows: confirmed registrants who did not attend live;
 * - watched the replay: audience members with replay seconds played;
 * - minutes watched and learner-hours: live plus replay time of the audience;
 * - questions asked: every question of the class; answered: in writing or live;
 * - satisfaction: the average of the three ratings of each response;
 * - 爱心通道 served: priority-service users who attended live or watched the replay.
 */

export type ClassFigures = {
	classId: string;
	title: string;
	instructorId: string;
	instructorName: string;
	topics: string[];
	startsAt: Date;
	registered: number;
	attendedLive: number;
	watchedReplay: number;
	liveSeconds: number;
	replaySeconds: number;
	questionsAsked: number;
	questionsAnswered: number;
	responses: number;
	ratingSums: { content: number; instructor: number; avQuality: number };
	/** Priority-service users served, for counting them once across classes. */
	priorityUserIds: string[];
};

function classWhere(classIds: string[]): Prisma.Sql {
	return classIds.length === 0 ? Prisma.sql`FALSE` : Prisma.sql`c.id IN (${Prisma.join(classIds)})`;
}

/** The classes a report covers, with their live window. */
function classesCte(classIds: string[], now: Date): Prisma.Sql {
	return Prisma.sql`
		cls AS (
			SELECT c.id, c.instructor_id, c.went_live_at AS live_from,
			       COALESCE(c.ended_at, ${now}) AS live_to
			FROM policy_class c WHERE ${classWhere(classIds)}
		),
		intervals AS (
			SELECT a.class_id, a.user_id,
			       GREATEST(a.joined_at, cls.live_from) AS j,
			       LEAST(COALESCE(a.left_at, a.seen_at), cls.live_to) AS l
			FROM cls JOIN live_attendance a ON a.class_id = cls.id
			WHERE cls.live_from IS NOT NULL
		),
		-- Each connection with the furthest end of the same person's earlier ones
		-- (byte-order keys: sorting is most of the work).
		reached AS (
			SELECT class_id, user_id, j, l,
			       MAX(l) OVER (PARTITION BY class_id COLLATE "C", user_id COLLATE "C" ORDER BY j
			                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
			FROM intervals WHERE l > j
		)`;
}

/**
 * Per person and class: live seconds (the union of their connections, cut to
 * the live window: each connection adds only what lies beyond the earlier
 * ones), replay seconds, live Q&A activity, whether they are a confirmed
 * registrant, and whether they count as audience; followed by `select`.
 */
function withPeople(classIds: string[], now: Date, select: Prisma.Sql): Prisma.Sql {
	return Prisma.sql`
		WITH ${classesCte(classIds, now)},
		activity AS (
			SELECT class_id, user_id, EXTRACT(EPOCH FROM (l - GREATEST(j, COALESCE(reach, j))))::float8 AS live_s,
			       0::float8 AS replay_s, false AS qa, false AS registered
			FROM reached WHERE l > COALESCE(reach, j)
			UNION ALL
			SELECT w.class_id, w.user_id, 0, w.seconds, false, false
			FROM cls JOIN replay_watch w ON w.class_id = cls.id WHERE w.seconds > 0
			UNION ALL
			SELECT q.class_id, q.author_id, 0, 0, true, false
			FROM cls JOIN question q ON q.class_id = cls.id WHERE q.offset_ms IS NOT NULL
			UNION ALL
			SELECT q.class_id, v.user_id, 0, 0, true, false
			FROM cls JOIN question q ON q.class_id = cls.id
			JOIN question_vote v ON v.question_id = q.id
			WHERE cls.live_from IS NOT NULL AND v.created_at BETWEEN cls.live_from AND cls.live_to
			UNION ALL
			SELECT r.class_id, r.user_id, 0, 0, false, true
			FROM cls JOIN registration r ON r.class_id = cls.id WHERE r.status = 'CONFIRMED'
		),
		grouped AS (
			SELECT class_id, user_id, SUM(live_s) AS live_s, SUM(replay_s) AS replay_s,
			       bool_or(qa) AS qa, bool_or(registered) AS registered
			FROM activity GROUP BY class_id, user_id
		),
		people AS (
			SELECT g.*, u.priority_service,
			       u.role IN ('TAXPAYER', 'INSTRUCTOR') AND g.user_id <> cls.instructor_id AS audience
			FROM grouped g JOIN cls ON cls.id = g.class_id JOIN app_user u ON u.id = g.user_id
		)
		${select}`;
}

type FiguresRow = {
	class_id: string;
	registered: bigint | number;
	attended_live: bigint | number;
	watched_replay: bigint | number;
	live_seconds: number | null;
	replay_seconds: number | null;
	priority_user_ids: string[] | null;
};

/** The figures of the given classes, computed from what was recorded, by start. */
export async function classFigures(
	db: Db,
	classIds: string[],
	now = new Date()
): Promise<ClassFigures[]> {
	const where = classWhere(classIds);
	const [classes, people, questions, surveys] = await Promise.all([
		db.$queryRaw<
			{
				id: string;
				title: string;
				topics: string[];
				starts_at: Date;
				instructor_id: string;
				instructor_name: string;
			}[]
		>`
			SELECT c.id, c.title, c.topics, c.starts_at, c.instructor_id, u.display_name AS instructor_name
			FROM policy_class c JOIN app_user u ON u.id = c.instructor_id
			WHERE ${where} ORDER BY c.starts_at, c.id`,
		db.$queryRaw<FiguresRow[]>(
			withPeople(
				classIds,
				now,
				Prisma.sql`
					SELECT class_id,
					       COUNT(*) FILTER (WHERE registered) AS registered,
					       COUNT(*) FILTER (WHERE registered AND audience AND (live_s > 0 OR qa)) AS attended_live,
					       COUNT(*) FILTER (WHERE audience AND replay_s > 0) AS watched_replay,
					       SUM(live_s) FILTER (WHERE audience) AS live_seconds,
					       SUM(replay_s) FILTER (WHERE audience) AS replay_seconds,
					       array_agg(user_id) FILTER (
					           WHERE audience AND priority_service AND (live_s > 0 OR qa OR replay_s > 0)
					       ) AS priority_user_ids
					FROM people GROUP BY class_id`
			)
		),
		db.$queryRaw<{ class_id: string; asked: bigint | number; answered: bigint | number }[]>`
			SELECT q.class_id, COUNT(*) AS asked,
			       COUNT(*) FILTER (WHERE q.answer_text IS NOT NULL OR q.answered_live) AS answered
			FROM policy_class c JOIN question q ON q.class_id = c.id
			WHERE ${where} GROUP BY q.class_id`,
		db.$queryRaw<
			{
				class_id: string;
				responses: bigint | number;
				content: bigint | number;
				instructor: bigint | number;
				av_quality: bigint | number;
			}[]
		>`
			SELECT s.class_id, COUNT(*) AS responses, SUM(s.content) AS content,
			       SUM(s.instructor) AS instructor, SUM(s.av_quality) AS av_quality
			FROM policy_class c JOIN survey_response s ON s.class_id = c.id
			WHERE ${where} GROUP BY s.class_id`
	]);
	const byClass = <T extends { class_id: string }>(rows: T[]) =>
		new Map(rows.map((r) => [r.class_id, r]));
	const peopleOf = byClass(people);
	const questionsOf = byClass(questions);
	const surveysOf = byClass(surveys);
	return classes.map((c) => {
		const p = peopleOf.get(c.id);
		const q = questionsOf.get(c.id);
		const s = surveysOf.get(c.id);
		return {
			classId: c.id,
			title: c.title,
			instructorId: c.instructor_id,
			instructorName: c.instructor_name,
			topics: c.topics,
			startsAt: new Date(c.starts_at),
			registered: Number(p?.registered ?? 0),
			attendedLive: Number(p?.attended_live ?? 0),
			watchedReplay: Number(p?.watched_replay ?? 0),
			liveSeconds: Number(p?.live_seconds ?? 0),
			replaySeconds: Number(p?.replay_seconds ?? 0),
			questionsAsked: Number(q?.asked ?? 0),
			questionsAnswered: Number(q?.answered ?? 0),
			responses: Number(s?.responses ?? 0),
			ratingSums: {
				content: Number(s?.content ?? 0),
				instructor: Number(s?.instructor ?? 0),
				avQuality: Number(s?.av_quality ?? 0)
			},
			priorityUserIds: p?.priority_user_ids ?? []
		};
	});
}

/** One class's audience: each person's live and replay seconds (who watched anything). */
export async function classAudience(
	db: Db,
	classId: string,
	now = new Date()
): Promise<{ userId: string; liveSeconds: number; replaySeconds: number }[]> {
	const rows = await db.$queryRaw<{ user_id: string; live_s: number; replay_s: number }[]>(
		withPeople(
			[classId],
			now,
			Prisma.sql`
				SELECT user_id, live_s, replay_s FROM people
				WHERE audience AND (live_s > 0 OR replay_s > 0)`
		)
	);
	return rows.map((r) => ({
		userId: r.user_id,
		liveSeconds: Number(r.live_s),
		replaySeconds: Number(r.replay_s)
	}));
}

/** One class's merged live intervals of its audience, for the viewers-over-time chart. */
export async function classLiveIntervals(
	db: Db,
	classId: string,
	now = new Date()
): Promise<{ userId: string; from: Date; to: Date }[]> {
	const rows = await db.$queryRaw<{ user_id: string; j: Date; l: Date }[]>`
		WITH ${classesCte([classId], now)},
		islands AS (
			SELECT r.class_id, r.user_id, r.j, r.l,
			       SUM(CASE WHEN r.reach IS NULL OR r.j > r.reach THEN 1 ELSE 0 END)
			           OVER (PARTITION BY r.user_id ORDER BY r.j ROWS UNBOUNDED PRECEDING) AS island
			FROM reached r
			JOIN cls ON cls.id = r.class_id
			JOIN app_user u ON u.id = r.user_id
			WHERE u.role IN ('TAXPAYER', 'INSTRUCTOR') AND r.user_id <> cls.instructor_id
		)
		SELECT user_id, MIN(j) AS j, MAX(l) AS l FROM islands
		GROUP BY user_id, island ORDER BY j`;
	return rows.map((r) => ({ userId: r.user_id, from: new Date(r.j), to: new Date(r.l) }));
}
