import type { Db } from '../../src/lib/server/db/client.ts';
import { makeUser } from './fixtures.ts';

/**
 * A class with known attendance, questions and ratings, and the figures its
 * report must show. Times are in March 2025, away from every other test's
 * classes, and the class is ENDED.
 *
 * Live from 10:00 to 11:00 (CST):
 * - 李明 (爱心通道): two tabs 10:00-10:20 and 10:19-10:30, reconnects 10:40-10:50
 *   → 40 min live; asks at 10:25; 5 min of replay;
 * - 王芳: joins at 09:50 (before the start) until 10:10, again 10:12 until a
 *   crash last seen 10:15 → 13 min live; votes during the class;
 * - 张伟: no video, asks at 10:05 (answered) → attended through the Q&A;
 * - 刘洋: only the replay, 10 min;
 * - 赵敏 (not registered): 2 min of the public replay;
 * - staff watching the whole class: not counted;
 * - a waitlisted registrant: not counted.
 */
export const REPORT_EXPECTED = {
	registered: 4,
	attendedLive: 3,
	watchedReplay: 3,
	noShows: 1,
	attendanceRate: 75,
	avgMinutes: 17.5,
	medianMinutes: 11.5,
	peakViewers: 2,
	learnerHours: 1.17,
	questionsAsked: 3,
	questionsAnswered: 1,
	responses: 3,
	content: 3.67,
	instructor: 3.67,
	avQuality: 4,
	overall: 3.78,
	distributionContent: [0, 1, 0, 1, 1],
	priorityServed: 1
} as const;

export const REPORT_TITLE = '增值税留抵退税报表测试课';
export const REPORT_COMMENT = '讲得很清楚，希望多举案例';
/** A comment a spreadsheet would run as a formula. */
export const REPORT_FORMULA_COMMENT = '=HYPERLINK("http://evil.example","点我")';

const at = (hhmm: string, day = '2025-03-10') => new Date(`${day}T${hhmm}:00+08:00`);

export async function seedReportClass(db: Db, day = '2025-03-10') {
	const t = (hhmm: string) => at(hhmm, day);
	const instructor = await makeUser(db, 'INSTRUCTOR', '王丽华');
	const staff = await makeUser(db, 'STAFF', '办税服务厅值班');
	const [li, wang, zhang, liu, zhao, waiting] = await Promise.all(
		['李明', '王芳', '张伟', '刘洋', '赵敏', '孙丽'].map((name) => makeUser(db, 'TAXPAYER', name))
	);
	await db.user.update({
		where: { id: li!.id },
		data: { priorityService: true, priorityReason: 'ELDERLY' }
	});
	const cls = await db.policyClass.create({
		data: {
			title: REPORT_TITLE,
			summary: '报表测试',
			topics: ['增值税', '留抵退税'],
			instructorId: instructor.id,
			startsAt: t('10:00'),
			durationMinutes: 60,
			format: 'ONLINE',
			capacity: 4,
			confirmedCount: 4,
			registrationOpensAt: at('09:00', '2025-03-01'),
			registrationClosesAt: t('09:00'),
			status: 'ENDED',
			wentLiveAt: t('10:00'),
			endedAt: t('11:00')
		}
	});
	await db.registration.createMany({
		data: [
			...[li, wang, zhang, liu].map((u) => ({
				classId: cls.id,
				userId: u!.id,
				status: 'CONFIRMED' as const,
				confirmedAt: at('09:00', '2025-03-02')
			})),
			{
				classId: cls.id,
				userId: waiting!.id,
				status: 'WAITLISTED' as const,
				waitlistedAt: at('09:00', '2025-03-02')
			}
		]
	});
	const interval = (userId: string, from: string, to: string | null, seen = to) => ({
		classId: cls.id,
		userId,
		connectionId: `${userId}-${from}`,
		joinedAt: t(from),
		leftAt: to ? t(to) : null,
		seenAt: t(seen ?? from)
	});
	await db.liveAttendance.createMany({
		data: [
			interval(li!.id, '10:00', '10:20'),
			interval(li!.id, '10:19', '10:30'),
			interval(li!.id, '10:40', '10:50'),
			interval(wang!.id, '09:50', '10:10'),
			interval(wang!.id, '10:12', null, '10:15'),
			interval(staff.id, '10:00', '11:00')
		]
	});
	await db.replayWatch.createMany({
		data: [
			{ classId: cls.id, userId: li!.id, seconds: 300, reportedAt: at('20:00') },
			{ classId: cls.id, userId: liu!.id, seconds: 600, reportedAt: at('20:00') },
			{ classId: cls.id, userId: zhao!.id, seconds: 120, reportedAt: at('20:00') }
		]
	});
	const question = (authorId: string, text: string, offsetMin: number | null, answer?: string) => ({
		classId: cls.id,
		authorId,
		text,
		status: 'VISIBLE' as const,
		offsetMs: offsetMin === null ? null : offsetMin * 60_000,
		answerText: answer ?? null,
		version: 1,
		createdAt: offsetMin === null ? t('12:00') : new Date(t('10:00').getTime() + offsetMin * 60_000)
	});
	await db.question.createMany({
		data: [
			question(zhang!.id, '留抵退税的申请条件是什么？', 5, '请参见公告第三条。'),
			question(li!.id, '小规模纳税人可以申请吗？', 25),
			question(li!.id, '回放里的课件在哪里下载？', null)
		]
	});
	const liQuestion = await db.question.findFirstOrThrow({
		where: { classId: cls.id, authorId: li!.id, offsetMs: { not: null } }
	});
	await db.questionVote.create({
		data: { questionId: liQuestion.id, userId: wang!.id, createdAt: t('10:26') }
	});
	await db.surveyResponse.createMany({
		data: [
			{
				classId: cls.id,
				userId: li!.id,
				content: 5,
				instructor: 4,
				avQuality: 3,
				comment: REPORT_COMMENT
			},
			{ classId: cls.id, userId: wang!.id, content: 4, instructor: 4, avQuality: 4 },
			{
				classId: cls.id,
				userId: liu!.id,
				content: 2,
				instructor: 3,
				avQuality: 5,
				comment: REPORT_FORMULA_COMMENT
			}
		]
	});
	return {
		cls,
		instructor,
		staff,
		users: { li: li!, wang: wang!, zhang: zhang!, liu: liu!, zhao: zhao! }
	};
}
