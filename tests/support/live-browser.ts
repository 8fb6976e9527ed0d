import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { ACCOUNTS, loginCookie } from './live.ts';

/**
 * Signed-in Chromium pages for the live-class browser tests, each in its own
 * context (its own cookies, like separate people), recording its peer
 * connections so tests can read decoding stats, and collecting CSP violations
 * and page errors.
 */
export class Audience {
	readonly #contexts: BrowserContext[] = [];
	readonly #cookies = new Map<string, string>();
	/** CSP violations and uncaught page errors, per account. */
	readonly problems: string[] = [];

	constructor(
		readonly browser: Browser,
		readonly baseUrl: () => string
	) {}

	async cookie(account: keyof typeof ACCOUNTS): Promise<string> {
		let cookie = this.#cookies.get(account);
		if (!cookie) {
			cookie = await loginCookie(this.baseUrl(), ACCOUNTS[account]);
			this.#cookies.set(account, cookie);
		}
		return cookie;
	}

	/** A page of its own for `account` (null: signed out); `init` runs before every document. */
	async as(account: keyof typeof ACCOUNTS | null, init?: () => void): Promise<Page> {
		const context = await this.browser.newContext({ locale: 'zh-CN' });
		this.#contexts.push(context);
		if (account) {
			const [name, value] = (await this.cookie(account)).split('=') as [string, string];
			await context.addCookies([{ name, value, url: this.baseUrl() }]);
		}
		await context.addInitScript(recordPeerConnections);
		await context.addInitScript(reportCspViolations);
		if (init) await context.addInitScript(init);
		return this.watch(await context.newPage(), account ?? 'anonymous');
	}

	/** Another tab in the same browser (same cookies) as `page`. */
	async tab(page: Page, label: string): Promise<Page> {
		return this.watch(await page.context().newPage(), label);
	}

	watch(page: Page, label: string): Page {
		page.on('pageerror', (err) => this.problems.push(`[${label}] page error: ${err.message}`));
		page.on('console', (msg) => {
			if (msg.text().startsWith('CSP violation')) this.problems.push(`[${label}] ${msg.text()}`);
		});
		return page;
	}

	async close(): Promise<void> {
		for (const c of this.#contexts) await c.close().catch(() => undefined);
	}
}

/** Records every RTCPeerConnection the page makes, to read its stats (an init script). */
export function recordPeerConnections() {
	const w = window as unknown as { __pcs: RTCPeerConnection[] };
	w.__pcs = [];
	const Original = window.RTCPeerConnection;
	window.RTCPeerConnection = class extends Original {
		constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
			super(...args);
			w.__pcs.push(this);
		}
	};
}

/** Logs each Content-Security-Policy violation where the test collects it. */
function reportCspViolations() {
	document.addEventListener('securitypolicyviolation', (e) => {
		console.log(
			`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`
		);
	});
}

export type Playback = { frames: number; audioBytes: number; width: number; height: number };

/**
 * Decoding stats of the page's open peer connections, plus the <video>'s size;
 * with `since`, only of the connections made after the first `since` (see
 * connectionsMade).
 */
export function playback(page: Page, since = 0): Promise<Playback> {
	return page.evaluate(async (since) => {
		const result = { frames: 0, audioBytes: 0, width: 0, height: 0 };
		for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.slice(since)) {
			if (pc.connectionState === 'closed') continue;
			(await pc.getStats()).forEach((s) => {
				if (s.type !== 'inbound-rtp') return;
				if (s.kind === 'video') {
					result.frames += s.framesDecoded ?? 0;
					result.height = s.frameHeight ?? result.height;
				}
				if (s.kind === 'audio') result.audioBytes += s.bytesReceived ?? 0;
			});
		}
		result.width = document.querySelector('video')?.videoWidth ?? 0;
		return result;
	}, since);
}

/** How many peer connections the page has made so far. */
export function connectionsMade(page: Page): Promise<number> {
	return page.evaluate(() => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.length);
}

/** Waits until the page decodes more frames than `after` (default: any). */
export async function decodesBeyond(
	page: Page,
	after = 0,
	timeout = 15_000,
	since = 0
): Promise<Playback> {
	let last: Playback | undefined;
	await expect
		.poll(async () => (last = await playback(page, since)).frames, { timeout, interval: 100 })
		.toBeGreaterThan(after)
		.catch(explainLivePage(page));
	return last!;
}

/**
 * For a failed wait on a live page: adds to the error what the page shows,
 * how far its viewer got (its performance marks), how its peer connections
 * stand and the server's last log lines (when given), so the failure summary
 * at the end of a CI log says where it stuck.
 */
export function explainLivePage(page: Page, serverLog?: () => string) {
	return async (err: unknown): Promise<never> => {
		const seen = await page
			.evaluate(() => ({
				url: location.pathname,
				player: document.querySelector('[data-state]')?.getAttribute('data-state'),
				mode: document.querySelector('[data-mode]')?.getAttribute('data-mode'),
				status: [...document.querySelectorAll('[role=status]')].map((e) => e.textContent?.trim()),
				marks: performance
					.getEntriesByType('mark')
					.map((m) => `${m.name}@${Math.round(m.startTime)}`),
				now: Math.round(performance.now()),
				peerConnections: (window as unknown as { __pcs?: RTCPeerConnection[] }).__pcs?.map(
					(pc) => `${pc.connectionState}/${pc.iceConnectionState}`
				)
			}))
			.catch((e: unknown) => String(e));
		const log = serverLog ? `\nserver log, last lines:\n${serverLog().slice(-3000)}` : '';
		const explained = new Error(
			`${err instanceof Error ? err.message : String(err)}\nlive page at the failure: ${JSON.stringify(seen)}${log}`
		);
		if (err instanceof Error) explained.stack = `${explained.message}\n${err.stack ?? ''}`;
		throw explained;
	};
}

/**
 * Decoding now: frames advance past what the page had decoded so far. With
 * `since` (connectionsMade before a disruption), on a connection made after
 * it: a connection the disruption froze keeps its last frame count until the
 * page closes it, and would stand in for new frames.
 */
export async function decoding(page: Page, since = 0): Promise<Playback> {
	const first = await decodesBeyond(page, 0, undefined, since);
	return decodesBeyond(page, first.frames, undefined, since);
}

/** The page's first live region (the player's or the studio's state line). */
export const statusOf = (page: Page) => page.getByRole('status').first();

/**
 * Plays a replay <video> muted once its player has loaded the media: an
 * earlier play() is interrupted when the page (hls.js) sets the source.
 */
export async function playLoadedMuted(video: Locator): Promise<void> {
	await expect
		.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState >= v.HAVE_METADATA))
		.toBe(true);
	await video.evaluate((v: HTMLVideoElement) => {
		v.muted = true;
		return v.play();
	});
}
