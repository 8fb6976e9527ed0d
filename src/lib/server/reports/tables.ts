import { m } from '$lib/paraglide/messages.js';
import { formatCst } from '$lib/time.ts';
import type { CsvCell } from '../csv.ts';
import {
	DIMENSIONS,
	type ClassReport,
	type ClassRow,
	type GroupRow,
	type OverviewReport
} from './report.ts';

/**
 * The report as tables, in the reader's language: the page shows them, each
 * one downloads as CSV, and together they make the XLSX workbook, so all
 * three hold exactly the same figures.
 */
export type ReportTable = {
	key: string;
	title: string;
	headers: string[];
	rows: CsvCell[][];
	/** Where each row's first cell links to on the page. */
	rowLinks?: string[];
};

type Locale = 'zh-CN' | 'en';

const dash = (value: number | null) => value ?? '';

function groupTable(
	key: string,
	title: string,
	column: string,
	rows: GroupRow[],
	o: { locale: Locale }
): ReportTable {
	return {
		key,
		title,
		headers: [
			column,
			m.report_col_classes_held({}, o),
			m.report_col_registered({}, o),
			m.report_col_attended_live({}, o),
			m.report_col_attendance_rate({}, o),
			m.report_col_learner_hours({}, o),
			m.report_col_satisfaction({}, o),
			m.report_col_responses({}, o),
			m.report_col_priority_served({}, o)
		],
		rows: rows.map((r) => [
			r.label,
			r.classesHeld,
			r.registered,
			r.attendedLive,
			dash(r.attendanceRate),
			r.learnerHours,
			dash(r.satisfaction),
			r.responses,
			r.priorityServed
		])
	};
}

function classesTable(rows: ClassRow[], o: { locale: Locale }): ReportTable {
	return {
		key: 'classes',
		title: m.report_table_classes({}, o),
		headers: [
			m.report_col_class({}, o),
			m.report_col_starts_at({}, o),
			m.report_col_instructor({}, o),
			m.report_col_registered({}, o),
			m.report_col_attended_live({}, o),
			m.report_col_no_shows({}, o),
			m.report_col_attendance_rate({}, o),
			m.report_col_watched_replay({}, o),
			m.report_col_learner_hours({}, o),
			m.report_col_questions_asked({}, o),
			m.report_col_questions_answered({}, o),
			m.report_col_satisfaction({}, o),
			m.report_col_responses({}, o)
		],
		rowLinks: rows.map((r) => `/manage/reports/${r.classId}`),
		rows: rows.map((r) => [
			r.title,
			formatCst(r.startsAt, o.locale),
			r.instructorName,
			r.registered,
			r.attendedLive,
			r.noShows,
			dash(r.attendanceRate),
			r.watchedReplay,
			r.learnerHours,
			r.questionsAsked,
			r.questionsAnswered,
			dash(r.satisfaction.overall),
			r.satisfaction.responses
		])
	};
}

export function overviewTables(report: OverviewReport, locale: Locale): ReportTable[] {
	const o = { locale };
	return [
		groupTable(
			'by-month',
			m.report_table_by_month({}, o),
			m.report_col_month({}, o),
			report.byMonth,
			o
		),
		groupTable(
			'by-topic',
			m.report_table_by_topic({}, o),
			m.report_col_topic({}, o),
			report.byTopic,
			o
		),
		groupTable(
			'by-instructor',
			m.report_table_by_instructor({}, o),
			m.report_col_instructor({}, o),
			report.byInstructor,
			o
		),
		classesTable(report.classes, o)
	];
}

export function classTables(report: ClassReport, locale: Locale): ReportTable[] {
	const o = { locale };
	const r = report.row;
	const s = r.satisfaction;
	const dimension = {
		content: m.survey_content({}, o),
		instructor: m.survey_instructor({}, o),
		avQuality: m.survey_av_quality({}, o)
	};
	return [
		{
			key: 'summary',
			title: m.report_table_summary({}, o),
			headers: [m.report_col_figure({}, o), m.report_col_value({}, o)],
			rows: [
				[m.report_col_registered({}, o), r.registered],
				[m.report_col_attended_live({}, o), r.attendedLive],
				[m.report_col_watched_replay({}, o), r.watchedReplay],
				[m.report_col_no_shows({}, o), r.noShows],
				[m.report_col_attendance_rate({}, o), dash(r.attendanceRate)],
				[m.report_col_avg_minutes({}, o), dash(report.avgMinutes)],
				[m.report_col_median_minutes({}, o), dash(report.medianMinutes)],
				[m.report_col_peak_viewers({}, o), report.peakViewers],
				[m.report_col_learner_hours({}, o), r.learnerHours],
				[m.report_col_questions_asked({}, o), r.questionsAsked],
				[m.report_col_questions_answered({}, o), r.questionsAnswered],
				[m.report_col_responses({}, o), s.responses],
				[m.report_col_avg_of({ what: dimension.content }, o), dash(s.content)],
				[m.report_col_avg_of({ what: dimension.instructor }, o), dash(s.instructor)],
				[m.report_col_avg_of({ what: dimension.avQuality }, o), dash(s.avQuality)],
				[m.report_col_satisfaction({}, o), dash(s.overall)]
			]
		},
		{
			key: 'distribution',
			title: m.report_table_distribution({}, o),
			headers: [m.report_col_stars({}, o), ...DIMENSIONS.map((d) => dimension[d])],
			rows: [5, 4, 3, 2, 1].map((stars) => [
				m.survey_stars({ count: stars }, o),
				...DIMENSIONS.map((d) => report.distribution[d][stars - 1]!)
			])
		},
		{
			key: 'comments',
			title: m.report_table_comments({}, o),
			headers: [
				m.report_col_time({}, o),
				...DIMENSIONS.map((d) => dimension[d]),
				m.survey_comment({}, o)
			],
			rows: report.comments.map((c) => [
				formatCst(c.at, locale),
				c.content,
				c.instructor,
				c.avQuality,
				c.text
			])
		},
		{
			key: 'viewers',
			title: m.report_table_viewers({}, o),
			headers: [m.report_col_minute({}, o), m.report_col_viewers({}, o)],
			rows: report.timeline.map((p) => [p.minute, p.viewers])
		}
	];
}
