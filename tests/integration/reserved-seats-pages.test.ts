import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCstLocalInput } from '../../src/lib/time.ts';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { ACCOUNTS, loginCookie, postForm } from '../support/live.ts';

/**
 * 爱心专座 through the production build, as a browser without JavaScript
 * posts: the manage-class form refuses bad reserved seats with a message in
 * the reader's language and keeps what was typed; the class page shows the
 * seats left and tells priority users they may take one.
 */
let app: AppServer;
let instructor: string;
let priorityUser: string;

beforeAll(async () => {
	app = await startAppServer({ MEDIA_WORKERS: '1' });
	instructor = await loginCookie(app.url, ACCOUNTS.instructor);
	// 刘大爷 asked for 爱心通道 when signing up (see the seed).
	priorityUser = await loginCookie(app.url, ACCOUNTS.taxpayer2);
});

afterAll(() => app?.stop());

const DAY = 24 * 3600_000;
const fields = {
	title: '个人所得税专项附加扣除（爱心专座）',
	summary: '讲解专项附加扣除的填报。',
	topics: '个人所得税',
	startsAt: toCstLocalInput(new Date(Date.now() + 5 * DAY)),
	durationMinutes: '60',
	format: 'ONLINE',
	location: '',
	capacity: '50',
	registrationOpensAt: toCstLocalInput(new Date(Date.now() - DAY)),
	registrationClosesAt: toCstLocalInput(new Date(Date.now() + 4 * DAY)),
	reservedSeats: '60',
	reservedReleaseAt: ''
};

async function page(path: string, cookie?: string) {
	const response = await fetch(`${app.url}${path}`, { headers: cookie ? { cookie } : {} });
	expect(response.status).toBe(200);
	return response.text();
}

describe('the manage-class form', () => {
	it('refuses more reserved seats than the capacity, in the reader’s language, keeping the values', async () => {
		const refused = await postForm(app.url, '/manage/classes/new', fields, instructor);
		expect(refused.status).toBe(400);
		const html = await refused.text();
		expect(html).toContain('爱心专座数量不能超过名额。');
		expect(html).toMatch(/name="reservedSeats"[^>]*value="60"|value="60"[^>]*name="reservedSeats"/);
		expect(html).toContain(fields.title);

		const english = await postForm(
			app.url,
			'/manage/classes/new',
			fields,
			`${instructor}; PARAGLIDE_LOCALE=en`
		);
		expect(english.status).toBe(400);
		expect(await english.text()).toContain('Priority seats cannot be more than the capacity.');
	});

	it('saves the reserved seats; the class page shows them, and a priority user takes one', async () => {
		const created = await postForm(
			app.url,
			'/manage/classes/new',
			{ ...fields, reservedSeats: '10' },
			instructor
		);
		expect(created.status).toBe(303);
		const classPath = created.headers.get('location')!;
		expect(classPath).toMatch(/^\/classes\/[0-9a-f-]{36}$/);

		const seen = await page(classPath);
		expect(seen).toContain('爱心专座 剩余 10');
		expect(seen).not.toContain('您已开通爱心通道');
		expect(await page(classPath, priorityUser)).toContain('您已开通爱心通道，可以使用爱心专座。');

		const registered = await postForm(app.url, `${classPath}?/register`, {}, priorityUser);
		expect(registered.status).toBe(200);
		expect(await page(classPath)).toContain('爱心专座 剩余 9');
	});
});
