import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classAccess, databaseFacts, may } from '../../src/lib/server/class-access.ts';
import type { Db } from '../../src/lib/server/db/client.ts';
import type { Role } from '../../src/lib/server/db/generated/enums.ts';
import { register } from '../../src/lib/server/registration.ts';
import { getSurveyResponse, submitSurvey } from '../../src/lib/server/survey.ts';
import { parseForm } from '../../src/lib/schemas/form.ts';
import { surveySchema } from '../../src/lib/schemas/survey.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { makeClass, makeUser } from '../support/fixtures.ts';

/** 满意度评价 on the real database: one answer per person, changed for 7 days, 1-5 stars only. */
let t: TestDatabase;
let db: Db;
beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
});
afterAll(() => t?.close());

const DAY = 24 * 3600_000;

function form(values: Record<string, string>) {
	const data = new FormData();
	for (const [k, v] of Object.entries(values)) data.set(k, v);
	return parseForm(surveySchema, data);
}

async function endedClassWith(userId: string) {
	const cls = await makeClass(db);
	await register(db, cls.id, userId);
	await db.policyClass.update({ where: { id: cls.id }, data: { status: 'ENDED' } });
	return cls;
}

describe('survey', () => {
	it('a second submission changes the first, for 7 days', async () => {
		const user = await makeUser(db);
		const cls = await endedClassWith(user.id);
		const first = new Date();
		const answer = { content: 5, instructor: 4, avQuality: 3, comment: '很实用' };
		expect(await submitSurvey(db, cls.id, user.id, answer, first)).toEqual({
			ok: true,
			created: true
		});
		const changed = { content: 2, instructor: 2, avQuality: 2, comment: null };
		expect(
			await submitSurvey(db, cls.id, user.id, changed, new Date(first.getTime() + 6 * DAY))
		).toEqual({ ok: true, created: false });
		expect(await db.surveyResponse.count({ where: { classId: cls.id } })).toBe(1);
		expect(await getSurveyResponse(db, cls.id, user.id)).toMatchObject(changed);

		// After 7 days the answer stays as it was.
		expect(
			await submitSurvey(db, cls.id, user.id, answer, new Date(first.getTime() + 8 * DAY))
		).toEqual({ ok: false, reason: 'survey_edit_closed' });
		expect(await getSurveyResponse(db, cls.id, user.id)).toMatchObject(changed);
	});

	it('refuses a rating of 0 or 6 with a message, in the form and in the database', async () => {
		const user = await makeUser(db);
		const cls = await endedClassWith(user.id);
		const base = { content: '4', instructor: '4', avQuality: '4', comment: '' };
		for (const bad of ['0', '6', '3.5', 'x']) {
			const parsed = form({ ...base, instructor: bad });
			expect(parsed.ok).toBe(false);
			if (!parsed.ok) expect(parsed.errors).toEqual({ instructor: 'survey_rating_range' });
		}
		const missing = form({ content: '4', avQuality: '4' });
		expect(!missing.ok && missing.errors).toEqual({ instructor: 'survey_rating_required' });
		const good = form(base);
		expect(good.ok && good.data).toEqual({
			content: 4,
			instructor: 4,
			avQuality: 4,
			comment: null
		});

		await expect(
			submitSurvey(db, cls.id, user.id, { content: 0, instructor: 4, avQuality: 4, comment: null })
		).rejects.toThrow();
		await expect(
			submitSurvey(db, cls.id, user.id, { content: 4, instructor: 6, avQuality: 4, comment: null })
		).rejects.toThrow();
		expect(await db.surveyResponse.count({ where: { classId: cls.id } })).toBe(0);
	});

	it('is asked of confirmed registrants once the class has ended, not of others', async () => {
		const instructor = await makeUser(db, 'INSTRUCTOR');
		const cls = await makeClass(db, { capacity: 1, instructorId: instructor.id });
		const [seated, waiting, outsider, staff] = [
			await makeUser(db),
			await makeUser(db),
			await makeUser(db),
			await makeUser(db, 'STAFF')
		];
		await register(db, cls.id, seated.id);
		await register(db, cls.id, waiting.id);
		const rate = async (u: { id: string; role: Role }) =>
			may.rate((await classAccess(databaseFacts(db), u, cls.id))!);
		expect(await rate(seated)).toBe(false);
		expect(may.beAskedToRate((await classAccess(databaseFacts(db), seated, cls.id))!)).toBe(true);
		await db.policyClass.update({ where: { id: cls.id }, data: { status: 'ENDED' } });
		expect(await rate(seated)).toBe(true);
		for (const other of [waiting, outsider, staff, instructor])
			expect(await rate(other)).toBe(false);
	});
});
