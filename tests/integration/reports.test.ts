import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/lib/server/db/client.ts';
import { toCsv } from '../../src/lib/server/csv.ts';
import {
	classReport,
	overviewReport,
	viewersOverTime
} from '../../src/lib/server/reports/report.ts';
import { classTables, overviewTables } from '../../src/lib/server/reports/tables.ts';
import { reportWorkbook } from '../../src/lib/server/reports/workbook.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import {
	REPORT_COMMENT,
	REPORT_EXPECTED as E,
	REPORT_FORMULA_COMMENT,
	REPORT_TITLE,
	seedReportClass
} from '../support/report-seed.ts';

/**
 * Report figures on the real database (PGlite, and PostgreSQL when
 * DATABASE_URL is set): a class with known attendance, questions and ratings
 * gives exactly the expected figures, per class and across classes, and the
 * tables survive CSV and XLSX with their Chinese text.
 */
let t: TestDatabase;
let db: Db;
let seeded: Awaited<ReturnType<typeof seedReportClass>>;
beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
	seeded = await seedReportClass(db);
});
afterAll(() => t?.close());

describe('class report', () => {
	it('gives the exact figures of the seeded class', async () => {
		const report = (await classReport(db, seeded.cls.id))!;
		const row = report.row;
		expect({
			registered: row.registered,
			attendedLive: row.attendedLive,
			watchedReplay: row.watchedReplay,
			noShows: row.noShows,
			attendanceRate: row.attendanceRate,
			avgMinutes: report.avgMinutes,
			medianMinutes: report.medianMinutes,
			peakViewers: report.peakViewers,
			learnerHours: row.learnerHours,
			questionsAsked: row.questionsAsked,
			questionsAnswered: row.questionsAnswered,
			responses: row.satisfaction.responses,
			content: row.satisfaction.content,
			instructor: row.satisfaction.instructor,
			avQuality: row.satisfaction.avQuality,
			overall: row.satisfaction.overall,
			distributionContent: report.distribution.content
		}).toEqual({
			...E,
			priorityServed: undefined,
			distributionContent: [...E.distributionContent]
		});
		expect(report.timeline).toHaveLength(60);
		// Both from 10:00; 王芳 gone 10:10-10:12, back until 10:15; 李明 away 10:30-10:40.
		expect(report.timeline.slice(0, 16).map((p) => p.viewers)).toEqual([
			...Array(10).fill(2),
			1,
			1,
			2,
			2,
			2,
			1
		]);
		expect(report.timeline[35]!.viewers).toBe(0);
		expect(report.questionMarks.map((q) => q.minute)).toEqual([5, 25]);
		expect(report.comments.map((c) => c.text).sort()).toEqual(
			[REPORT_COMMENT, REPORT_FORMULA_COMMENT].sort()
		);
	});

	it('puts the same figures in its tables, and they survive CSV and XLSX', async () => {
		const report = (await classReport(db, seeded.cls.id))!;
		const tables = classTables(report, 'zh-CN');
		const summary = tables.find((t) => t.key === 'summary')!;
		const value = (label: string) => summary.rows.find((r) => r[0] === label)?.[1];
		expect(value('报名人数')).toBe(E.registered);
		expect(value('直播到课')).toBe(E.attendedLive);
		expect(value('未到课')).toBe(E.noShows);
		expect(value('到课率（%）')).toBe(E.attendanceRate);
		expect(value('观看时长中位数（分钟）')).toBe(E.medianMinutes);
		expect(value('最高同时在线')).toBe(E.peakViewers);
		expect(value('满意度（平均分）')).toBe(E.overall);

		const comments = tables.find((t) => t.key === 'comments')!;
		const csv = toCsv(comments.headers, comments.rows);
		expect(csv.startsWith('\uFEFF时间,课程内容,讲师讲解,音视频质量,意见和建议（选填）\r\n')).toBe(
			true
		);
		expect(csv).toContain(REPORT_COMMENT);
		// A comment that starts like a formula is written as text.
		expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""点我"")"`);

		const workbook = new ExcelJS.Workbook();
		await workbook.xlsx.load((await reportWorkbook(REPORT_TITLE, tables)).buffer);
		expect(workbook.worksheets.map((w) => w.name)).toEqual([
			'概况',
			'评分分布',
			'学员意见',
			'在线人数（每分钟）'
		]);
		const sheet = workbook.getWorksheet('学员意见')!;
		const cells = sheet.getColumn(5).values.filter(Boolean);
		expect(cells).toContain(REPORT_COMMENT);
		expect(cells).toContain(REPORT_FORMULA_COMMENT);
		expect(sheet.getCell('E2').formula).toBeUndefined();
		const figures = workbook.getWorksheet('概况')!;
		expect(figures.getCell('A2').value).toBe('报名人数');
		expect(figures.getCell('B2').value).toBe(E.registered);
	});
});

describe('across classes', () => {
	it('groups by month, topic and instructor, counting 爱心通道 users once', async () => {
		// A second class of the same instructor a month later, attended by the same 爱心通道 user.
		const second = await seedReportClass(db, '2025-04-14');
		await db.policyClass.update({
			where: { id: second.cls.id },
			data: { instructorId: seeded.instructor.id, topics: ['发票'] }
		});
		await db.liveAttendance.create({
			data: {
				classId: second.cls.id,
				userId: seeded.users.li.id,
				connectionId: 'second-class',
				joinedAt: new Date('2025-04-14T10:00:00+08:00'),
				leftAt: new Date('2025-04-14T10:30:00+08:00'),
				seenAt: new Date('2025-04-14T10:30:00+08:00')
			}
		});
		const report = await overviewReport(db, { from: '2025-03', to: '2025-04' });
		expect(report.classes.map((c) => c.title)).toEqual([REPORT_TITLE, REPORT_TITLE]);
		expect(report.byMonth.map((g) => [g.label, g.classesHeld, g.attendanceRate])).toEqual([
			['2025-03', 1, 75],
			['2025-04', 1, 75]
		]);
		expect(report.byTopic.map((g) => [g.label, g.classesHeld])).toEqual([
			['发票', 1],
			['留抵退税', 1],
			['增值税', 1]
		]);
		const byInstructor = report.byInstructor.find((g) => g.classesHeld === 2)!;
		expect(byInstructor).toMatchObject({
			registered: 8,
			attendedLive: 6,
			attendanceRate: 75,
			responses: 6,
			satisfaction: E.overall,
			// Each class's own 爱心通道 user, and 李明 once although he came to both.
			priorityServed: 2
		});
		expect(report.total.classesHeld).toBe(2);
		expect(report.total.learnerHours).toBe(Math.round((4200 * 2 + 1800) / 36) / 100);

		const tables = overviewTables(report, 'en');
		expect(tables.map((t) => t.key)).toEqual(['by-month', 'by-topic', 'by-instructor', 'classes']);
		const byMonth = tables[0]!;
		expect(byMonth.headers[4]).toBe('Attendance rate (%)');
		expect(byMonth.rows[0]).toEqual(['2025-03', 1, 4, 3, 75, E.learnerHours, E.overall, 3, 1]);
	});

	it('merges intervals exactly at the edges of a minute', () => {
		const start = new Date('2025-01-01T00:00:00Z');
		const at = (s: number) => new Date(start.getTime() + s * 1000);
		const { timeline, peak } = viewersOverTime(
			[
				{ from: at(0), to: at(60) },
				{ from: at(60), to: at(90) },
				{ from: at(30), to: at(150) }
			],
			start,
			at(180)
		);
		expect(timeline.map((p) => p.viewers)).toEqual([2, 2, 1]);
		expect(peak).toBe(2);
	});
});

describe('stored figures of ended classes', () => {
	it('are used until anything they are computed from changes, however it is written', async () => {
		const june = await seedReportClass(db, '2025-06-09');
		const { wang, zhang, liu } = june.users;
		const at = (hhmm: string) => new Date(`2025-06-09T${hhmm}:00+08:00`);
		const row = async () => {
			const report = await overviewReport(db, { from: '2025-06', to: '2025-06' });
			expect(report.classes.map((c) => c.classId)).toEqual([june.cls.id]);
			return { ...report.classes[0]!, priorityServed: report.total.priorityServed };
		};
		// A wrong figure planted in the store shows only while the store is used.
		const plant = () =>
			db.$executeRaw`UPDATE class_figures SET registered = 999 WHERE class_id = ${june.cls.id}`;

		expect(await row()).toMatchObject({
			registered: E.registered,
			attendedLive: E.attendedLive,
			learnerHours: E.learnerHours,
			priorityServed: E.priorityServed
		});
		await plant();
		expect((await row()).registered).toBe(999);

		const steps: [string, () => Promise<unknown>, Record<string, unknown>][] = [
			[
				'more replay seconds',
				() =>
					db.replayWatch.update({
						where: { classId_userId: { classId: june.cls.id, userId: liu.id } },
						data: { seconds: 1200, reportedAt: at('21:00') }
					}),
				// Live 53 min, replay 300 + 1200 + 120 s.
				{ watchedReplay: 3, learnerHours: 1.33 }
			],
			[
				'a late survey answer',
				() =>
					db.surveyResponse.create({
						data: {
							classId: june.cls.id,
							userId: zhang.id,
							content: 5,
							instructor: 5,
							avQuality: 5
						}
					}),
				{ satisfaction: expect.objectContaining({ responses: 4, overall: 4.08 }) }
			],
			[
				'an answered question',
				() =>
					db.question.create({
						data: {
							classId: june.cls.id,
							authorId: zhang.id,
							text: '课后补充的问题',
							status: 'VISIBLE',
							answerText: '已解答',
							version: 2
						}
					}),
				{ questionsAsked: 4, questionsAnswered: 2 }
			],
			[
				'an interval inserted by SQL',
				() => db.$executeRaw`
					INSERT INTO live_attendance (id, class_id, user_id, connection_id, joined_at, left_at, seen_at)
					VALUES (gen_random_uuid()::text, ${june.cls.id}, ${liu.id}, 'by-sql',
					        ${at('10:00')}, ${at('10:30')}, ${at('10:30')})`,
				{ attendedLive: 4, learnerHours: 1.83 }
			],
			[
				'a 爱心通道 user set by SQL',
				() => db.$executeRaw`UPDATE app_user SET priority_service = true WHERE id = ${wang.id}`,
				{ priorityServed: 2 }
			],
			[
				'the class ending earlier',
				() => db.policyClass.update({ where: { id: june.cls.id }, data: { endedAt: at('10:30') } }),
				// 李明 30 min, 王芳 13, 刘洋 30 live; 1620 s of replay.
				{ attendedLive: 4, learnerHours: 1.67 }
			]
		];
		for (const [name, write, expected] of steps) {
			await plant();
			await write();
			expect({ name, ...(await row()) }).toMatchObject({
				name,
				registered: E.registered,
				...expected
			});
		}
	});
});
