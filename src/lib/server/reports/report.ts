import { toCstLocalInput } from '$lib/time.ts';
import type { Db } from '../db/client.ts';
import { endedClassFigures } from './figures-cache.ts';
import { classAudience, classFigures, classLiveIntervals, type ClassFigures } from './figures.ts';

/**
 * The reports built from the figures: per class, and across classes by
 * month, topic and instructor. Sums are kept exact and rounded once, at the
 * end, so the page, the CSV and the workbook show the same numbers.
 */

const round = (value: number, digits: number) => {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
};
const rate = (part: number, whole: number) => (whole > 0 ? round((part / whole) * 100, 1) : null);
const hours = (seconds: number) => round(seconds / 3600, 2);

export type Satisfaction = {
	responses: number;
	content: number | null;
	instructor: number | null;
	avQuality: number | null;
	/** The mean of each response's three ratings. */
	overall: number | null;
};

function satisfaction(responses: number, sums: ClassFigures['ratingSums']): Satisfaction {
	const avg = (sum: number) => (responses > 0 ? round(sum / responses, 2) : null);
	return {
		responses,
		content: avg(sums.content),
		instructor: avg(sums.instructor),
		avQuality: avg(sums.avQuality),
		overall:
			responses > 0
				? round((sums.content + sums.instructor + sums.avQuality) / (3 * responses), 2)
				: null
	};
}

export type ClassRow = {
	classId: string;
	title: string;
	instructorName: string;
	startsAt: Date;
	registered: number;
	attendedLive: number;
	noShows: number;
	attendanceRate: number | null;
	watchedReplay: number;
	learnerHours: number;
	questionsAsked: number;
	questionsAnswered: number;
	satisfaction: Satisfaction;
};

function classRow(f: ClassFigures): ClassRow {
	return {
		classId: f.classId,
		title: f.title,
		instructorName: f.instructorName,
		startsAt: f.startsAt,
		registered: f.registered,
		attendedLive: f.attendedLive,
		noShows: f.registered - f.attendedLive,
		attendanceRate: rate(f.attendedLive, f.registered),
		watchedReplay: f.watchedReplay,
		learnerHours: hours(f.liveSeconds + f.replaySeconds),
		questionsAsked: f.questionsAsked,
		questionsAnswered: f.questionsAnswered,
		satisfaction: satisfaction(f.responses, f.ratingSums)
	};
}

export type GroupRow = {
	key: string;
	label: string;
	classesHeld: number;
	registered: number;
	attendedLive: number;
	attendanceRate: number | null;
	learnerHours: number;
	satisfaction: number | null;
	responses: number;
	priorityServed: number;
};

function groupRows(
	figures: ClassFigures[],
	keysOf: (f: ClassFigures) => { key: string; label: string }[]
): GroupRow[] {
	type Acc = {
		label: string;
		classes: ClassFigures[];
	};
	const groups = new Map<string, Acc>();
	for (const f of figures) {
		for (const { key, label } of keysOf(f)) {
			let acc = groups.get(key);
			if (!acc) groups.set(key, (acc = { label, classes: [] }));
			acc.classes.push(f);
		}
	}
	return [...groups.entries()]
		.sort(([a], [b]) => a.localeCompare(b, 'zh-CN'))
		.map(([key, { label, classes }]) => {
			const sum = (pick: (f: ClassFigures) => number) => classes.reduce((s, f) => s + pick(f), 0);
			const registered = sum((f) => f.registered);
			const attendedLive = sum((f) => f.attendedLive);
			const responses = sum((f) => f.responses);
			const ratings = sum(
				(f) => f.ratingSums.content + f.ratingSums.instructor + f.ratingSums.avQuality
			);
			return {
				key,
				label,
				classesHeld: classes.length,
				registered,
				attendedLive,
				attendanceRate: rate(attendedLive, registered),
				learnerHours: hours(sum((f) => f.liveSeconds + f.replaySeconds)),
				satisfaction: responses > 0 ? round(ratings / (3 * responses), 2) : null,
				responses,
				priorityServed: new Set(classes.flatMap((f) => f.priorityUserIds)).size
			};
		});
}

const EMPTY_GROUP: GroupRow = {
	key: 'all',
	label: '',
	classesHeld: 0,
	registered: 0,
	attendedLive: 0,
	attendanceRate: null,
	learnerHours: 0,
	satisfaction: null,
	responses: 0,
	priorityServed: 0
};

/** The month (China Standard Time) a class is counted in, as YYYY-MM. */
export const monthOf = (date: Date) => toCstLocalInput(date).slice(0, 7);

export type OverviewReport = {
	from: string;
	to: string;
	classes: ClassRow[];
	byMonth: GroupRow[];
	byTopic: GroupRow[];
	byInstructor: GroupRow[];
	total: GroupRow;
};

/** Ended classes that started in the months `from`..`to` (YYYY-MM, inclusive, CST). */
export async function overviewReport(
	db: Db,
	range: { from: string; to: string },
	now = new Date()
): Promise<OverviewReport> {
	const start = new Date(`${range.from}-01T00:00:00+08:00`);
	const [y, m] = range.to.split('-').map(Number) as [number, number];
	const end = new Date(
		`${m === 12 ? y + 1 : y}-${String((m % 12) + 1).padStart(2, '0')}-01T00:00:00+08:00`
	);
	const figures = await endedClassFigures(db, start, end, now);
	const all = groupRows(figures, () => [{ key: 'all', label: '' }]);
	return {
		...range,
		classes: figures.map(classRow),
		byMonth: groupRows(figures, (f) => [{ key: monthOf(f.startsAt), label: monthOf(f.startsAt) }]),
		byTopic: groupRows(figures, (f) => f.topics.map((t) => ({ key: t, label: t }))),
		byInstructor: groupRows(figures, (f) => [
			{ key: `${f.instructorName}\u0000${f.instructorId}`, label: f.instructorName }
		]),
		total: all[0] ?? EMPTY_GROUP
	};
}

export type Dimension = 'content' | 'instructor' | 'avQuality';
export const DIMENSIONS: Dimension[] = ['content', 'instructor', 'avQuality'];

export type ClassReport = {
	row: ClassRow;
	status: string;
	wentLiveAt: Date | null;
	endedAt: Date | null;
	avgMinutes: number | null;
	medianMinutes: number | null;
	peakViewers: number;
	/** Most viewers at once in each minute since the class went live. */
	timeline: { minute: number; viewers: number }[];
	questionMarks: { minute: number; viewers: number; text: string }[];
	/** distribution[dimension][stars - 1] = responses. */
	distribution: Record<Dimension, number[]>;
	comments: { at: Date; content: number; instructor: number; avQuality: number; text: string }[];
};

function median(sorted: number[]): number | null {
	if (sorted.length === 0) return null;
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Viewers at once, per minute from `start`, and the peak: a sweep over interval ends. */
export function viewersOverTime(
	intervals: { from: Date; to: Date }[],
	start: Date,
	end: Date
): { timeline: { minute: number; viewers: number }[]; peak: number } {
	const events = intervals
		.flatMap((i) => [
			{ t: i.from.getTime(), d: 1 },
			{ t: i.to.getTime(), d: -1 }
		])
		// A leave before a join at the same instant: one person handing over is not two.
		.sort((a, b) => a.t - b.t || a.d - b.d);
	const minutes = Math.max(1, Math.ceil((end.getTime() - start.getTime()) / 60_000));
	const timeline: { minute: number; viewers: number }[] = [];
	let count = 0;
	let e = 0;
	let peak = 0;
	for (let k = 0; k < minutes; k++) {
		const bucketStart = start.getTime() + k * 60_000;
		const bucketEnd = bucketStart + 60_000;
		while (e < events.length && events[e]!.t <= bucketStart) count += events[e++]!.d;
		let most = count;
		while (e < events.length && events[e]!.t < bucketEnd) {
			count += events[e++]!.d;
			most = Math.max(most, count);
		}
		timeline.push({ minute: k, viewers: most });
		peak = Math.max(peak, most);
	}
	return { timeline, peak };
}

export async function classReport(
	db: Db,
	classId: string,
	now = new Date()
): Promise<ClassReport | null> {
	const cls = await db.policyClass.findUnique({
		where: { id: classId },
		select: { status: true, wentLiveAt: true, endedAt: true }
	});
	if (!cls) return null;
	const [[figures], audience, intervals, questions, responses] = await Promise.all([
		classFigures(db, [classId], now),
		classAudience(db, classId, now),
		classLiveIntervals(db, classId, now),
		db.question.findMany({
			where: { classId, offsetMs: { not: null } },
			select: { offsetMs: true, text: true },
			orderBy: { offsetMs: 'asc' }
		}),
		db.surveyResponse.findMany({
			where: { classId },
			select: {
				content: true,
				instructor: true,
				avQuality: true,
				comment: true,
				updatedAt: true
			},
			orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }]
		})
	]);
	if (!figures) return null;
	const minutes = audience.map((a) => (a.liveSeconds + a.replaySeconds) / 60).sort((a, b) => a - b);
	const liveStart = cls.wentLiveAt;
	const liveEnd = cls.endedAt ?? now;
	const { timeline, peak } = liveStart
		? viewersOverTime(intervals, liveStart, liveEnd)
		: { timeline: [], peak: 0 };
	const distribution = Object.fromEntries(
		DIMENSIONS.map((d) => [
			d,
			[1, 2, 3, 4, 5].map((n) => responses.filter((r) => r[d] === n).length)
		])
	) as Record<Dimension, number[]>;
	return {
		row: classRow(figures),
		status: cls.status,
		wentLiveAt: cls.wentLiveAt,
		endedAt: cls.endedAt,
		avgMinutes:
			minutes.length > 0 ? round(minutes.reduce((s, x) => s + x, 0) / minutes.length, 1) : null,
		medianMinutes: minutes.length > 0 ? round(median(minutes)!, 1) : null,
		peakViewers: peak,
		timeline,
		questionMarks: questions.map((q) => {
			const minute = round(q.offsetMs! / 60_000, 1);
			return {
				minute,
				viewers: timeline[Math.min(Math.floor(minute), timeline.length - 1)]?.viewers ?? 0,
				text: q.text.length > 60 ? `${q.text.slice(0, 60)}…` : q.text
			};
		}),
		distribution,
		comments: responses
			.filter((r) => r.comment)
			.map((r) => ({
				at: r.updatedAt,
				content: r.content,
				instructor: r.instructor,
				avQuality: r.avQuality,
				text: r.comment!
			}))
	};
}
