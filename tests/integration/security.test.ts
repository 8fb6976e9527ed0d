import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { ACCOUNTS, PASSWORD, findClassId, loginCookie, postForm } from '../support/live.ts';

/**
 * What the platform promises a public audience, against the production build:
 * security headers on every page, same-origin redirects only, throttled
 * password guessing, an ORIGIN check behind TLS proxies, and the audit log.
 */
let app: AppServer;
let classId: string;
const cookies: Partial<Record<keyof typeof ACCOUNTS, string>> = {};

beforeAll(async () => {
	// A short first lock-out, so the test sees it pass.
	app = await startAppServer({ LOGIN_LOCKOUT_SECONDS: '2', MEDIA_WORKERS: '1' });
	classId = await findClassId(app.url);
	for (const name of ['taxpayer1', 'instructor', 'staff', 'admin'] as const) {
		cookies[name] = await loginCookie(app.url, ACCOUNTS[name]);
	}
});

afterAll(() => app?.stop());

function get(path: string, cookie?: string) {
	return fetch(`${app.url}${path}`, {
		redirect: 'manual',
		headers: cookie ? { cookie } : {}
	});
}

describe('security headers', () => {
	it('every page has a nonce-based CSP, no framing, nosniff and a referrer policy', async () => {
		const pages: [string, string | undefined][] = [
			['/', undefined],
			['/login', undefined],
			['/signup', undefined],
			[`/classes/${classId}`, undefined],
			['/my', cookies.taxpayer1],
			[`/classes/${classId}/watch`, cookies.taxpayer1],
			[`/classes/${classId}/questions`, cookies.taxpayer1],
			[`/classes/${classId}/studio`, cookies.instructor],
			[`/classes/${classId}/console`, cookies.staff],
			[`/manage/classes/${classId}`, cookies.staff],
			['/admin/users', cookies.admin],
			['/admin/audit', cookies.admin],
			['/no-such-page', undefined]
		];
		for (const [path, cookie] of pages) {
			const response = await get(path, cookie);
			expect([200, 404], path).toContain(response.status);
			const csp = response.headers.get('content-security-policy') ?? '';
			const nonce = /script-src 'self' 'nonce-([^']+)'/.exec(csp)?.[1];
			expect(nonce, `${path}: ${csp}`).toBeTruthy();
			expect(csp).toContain("frame-ancestors 'none'");
			expect(csp).toContain("object-src 'none'");
			expect(response.headers.get('x-content-type-options')).toBe('nosniff');
			expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
			expect(response.headers.get('x-frame-options')).toBe('DENY');
			// Every inline script in the page carries this response's nonce.
			const html = await response.text();
			const scripts = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].map((m) => m[1]);
			for (const attributes of scripts) expect(attributes).toContain(`nonce="${nonce}"`);
			const devices = response.headers.get('permissions-policy') ?? '';
			expect(devices).toContain(
				path.endsWith('/studio') ? 'camera=(self), microphone=(self)' : 'camera=(), microphone=()'
			);
		}
	});
});

describe('redirects after sign-in', () => {
	it('land on the same site, and every open-redirect form lands on /my', async () => {
		const hostile = [
			'/\\evil.example',
			'/\\\\evil.example',
			'/\t/evil.example',
			'/\n/evil.example',
			'//evil.example',
			'///evil.example',
			'/\\/evil.example',
			'https://evil.example',
			'https:evil.example',
			'http:/\\evil.example',
			'javascript:alert(1)',
			'evil.example',
			' /\\evil.example',
			'/%2F/evil.example',
			'%2F%2Fevil.example'
		];
		for (const target of hostile) {
			// Both spellings: the target as a browser would encode it, and raw percent-escapes.
			for (const query of [encodeURIComponent(target), target.replace(/\\/g, '%5C')]) {
				const response = await postForm(app.url, `/login?redirectTo=${query}`, {
					contact: ACCOUNTS.taxpayer1,
					password: PASSWORD
				});
				expect(response.status, target).toBe(303);
				const location = response.headers.get('location') ?? '';
				expect(new URL(location, app.url).origin, `${target} → ${location}`).toBe(app.url);
				if (!target.startsWith('/%2F')) expect(location, target).toBe('/my');
			}
		}
		const fine = await postForm(app.url, `/login?redirectTo=${encodeURIComponent('/my?tab=1#x')}`, {
			contact: ACCOUNTS.taxpayer1,
			password: PASSWORD
		});
		expect(fine.headers.get('location')).toBe('/my?tab=1#x');
	});
});

describe('signed out', () => {
	it('a page sends the visitor to sign in; the JSON a page fetches answers 401 instead', async () => {
		const classId = await findClassId(app.url);
		const page = await fetch(`${app.url}/classes/${classId}/console`, { redirect: 'manual' });
		expect(page.status).toBe(303);
		expect(page.headers.get('location')).toMatch(/^\/login\?redirectTo=/);
		for (const endpoint of [
			`/api/classes/${classId}/questions`,
			`/classes/${classId}/console/audience`
		]) {
			const response = await fetch(`${app.url}${endpoint}`, {
				redirect: 'manual',
				headers: { accept: 'application/json' }
			});
			expect(response.status, endpoint).toBe(401);
			expect(await response.json(), endpoint).toEqual({ message: 'error_signed_out' });
		}
	});
});

describe('sign-in throttling', () => {
	it('the 6th wrong password in a minute waits; the right one works after the lock-out', async () => {
		const contact = ACCOUNTS.unregistered;
		const attempt = (password: string) => postForm(app.url, '/login', { contact, password });
		for (let i = 0; i < 5; i++) {
			const wrong = await attempt(`wrong-${i}`);
			expect(wrong.status).toBe(400);
			expect(await wrong.text()).toContain('账号或密码不正确');
		}
		const sixth = await attempt('wrong-6');
		expect(sixth.status).toBe(429);
		expect(await sixth.text()).toMatch(/登录失败次数过多，为保护账户安全，请 \d+ 秒后再试。/);
		// Even the right password waits while the account is locked out.
		expect((await attempt(PASSWORD)).status).toBe(429);
		// Other accounts are not affected.
		expect((await loginCookie(app.url, ACCOUNTS.taxpayer2)).length).toBeGreaterThan(0);
		// Once the lock-out has passed, the right password signs in.
		await expect.poll(async () => (await attempt(PASSWORD)).status, { timeout: 15_000 }).toBe(303);
	});
});

describe('behind a TLS proxy', () => {
	it('refuses to serve forwarded https without ORIGIN, saying what to set', async () => {
		const bare = await startAppServer({ ORIGIN: undefined, MEDIA_WORKERS: '1' });
		try {
			const proxied = await fetch(bare.url, { headers: { 'x-forwarded-proto': 'https' } });
			expect(proxied.status).toBe(503);
			const text = await proxied.text();
			expect(text).toContain('ORIGIN');
			expect(text).toContain('请将 ORIGIN 设为对外访问地址');
			expect((await fetch(bare.url)).status).toBe(200);
		} finally {
			await bare.stop();
		}
	});
});

describe('configuration', () => {
	it('a bad MEDIA_* value stops the server at start with a message naming it', async () => {
		await expect(startAppServer({ MEDIA_RTC_MIN_PORT: 'forty' })).rejects.toThrow(
			/MEDIA_RTC_MIN_PORT/
		);
	});
});

describe('audit log', () => {
	it('records staff and admin actions; admins read, filter and export it', async () => {
		const victim = await findClassId(app.url, '社保费申报缴纳常见问题');
		const cancelled = await postForm(
			app.url,
			`/manage/classes/${victim}?/cancel`,
			{ reason: '场地调整，改期另行通知' },
			cookies.staff
		);
		expect(cancelled.status).toBe(200);

		const page = await get('/admin/audit?action=class.cancelled', cookies.admin);
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain('取消课程');
		expect(html).toContain('李敏（咨询坐席）');
		expect(html).toContain('社保费申报缴纳常见问题');
		expect(html).toContain('场地调整，改期另行通知');

		const none = await (await get('/admin/audit?action=user.disabled', cookies.admin)).text();
		expect(none).toContain('没有符合条件的记录。');

		const csv = await get('/admin/audit.csv?action=class.cancelled', cookies.admin);
		expect(csv.headers.get('content-type')).toContain('text/csv');
		const bytes = new Uint8Array(await csv.arrayBuffer());
		expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
		const body = new TextDecoder().decode(bytes);
		expect(body.split('\r\n').filter(Boolean)).toHaveLength(2);
		expect(body).toContain('社保费申报缴纳常见问题');

		for (const path of ['/admin/audit', '/admin/audit.csv']) {
			expect((await get(path, cookies.staff)).status).toBe(403);
		}
	});
});
