import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, headless, with fake camera and microphone. */
export async function launchBrowser(): Promise<Browser> {
	return chromium.launch({
		executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
		args: [
			'--headless=new',
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			'--use-fake-device-for-media-stream',
			'--use-fake-ui-for-media-stream',
			'--autoplay-policy=no-user-gesture-required'
		]
	});
}

/**
 * Opens a page and waits until SvelteKit has hydrated it, so that clicks go
 * to the enhanced forms and the client router rather than racing its start.
 */
export async function gotoHydrated(page: Page, url: string): Promise<void> {
	await page.goto(url);
	await page.locator('html[data-hydrated]').waitFor({ state: 'attached' });
}

/** Sign in through the real login form. */
export async function signIn(page: Page, baseUrl: string, contact: string, password: string) {
	await gotoHydrated(page, `${baseUrl}/login`);
	await page.getByLabel(/手机号或电子邮箱|Mobile number or email/).fill(contact);
	await page.getByLabel(/^(密码|Password)$/).fill(password);
	await Promise.all([
		page.waitForURL((url) => !url.pathname.startsWith('/login')),
		page.getByRole('button', { name: /^(登录|Sign in)$/ }).click()
	]);
}
