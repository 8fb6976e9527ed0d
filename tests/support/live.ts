import type { Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { QaClient } from '../../src/lib/qa/client.ts';

/** Helpers for the live-class tests (media signaling and browser). */
export const LIVE_CLASS_TITLE = '增值税留抵退税政策解读与申报实操';
export const PASSWORD = 'xuetang2026';
export const ACCOUNTS = {
	instructor: 'wang.lihua@xuetang.example',
	taxpayer1: '13800138000',
	taxpayer2: '13900139000',
	unregistered: 'zhao@xuetang.example',
	staff: 'staff@xuetang.example',
	admin: 'admin@xuetang.example'
} as const;

/** Post a form the way a browser without JavaScript does (no redirects followed). */
export function postForm(
	baseUrl: string,
	path: string,
	fields: Record<string, string>,
	cookie?: string
): Promise<Response> {
	return fetch(`${baseUrl}${path}`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			origin: baseUrl,
			accept: 'text/html',
			'content-type': 'application/x-www-form-urlencoded',
			...(cookie ? { cookie } : {})
		},
		body: new URLSearchParams(fields)
	});
}

/** Sign in through the login form action; returns the session cookie ("name=value"). */
export async function loginCookie(
	baseUrl: string,
	contact: string,
	password = PASSWORD
): Promise<string> {
	const response = await postForm(baseUrl, '/login', { contact, password });
	const cookie = response.headers
		.getSetCookie()
		.map((c) => c.split(';')[0]!)
		.find((c) => !c.endsWith('='));
	if (response.status !== 303 || !cookie)
		throw new Error(
			`login failed for ${contact}: ${response.status} ${await response.text().catch(() => '')}`.slice(
				0,
				500
			)
		);
	return cookie;
}

/** The id of a class found through the public schedule search. */
export async function findClassId(baseUrl: string, title = LIVE_CLASS_TITLE): Promise<string> {
	const html = await (await fetch(`${baseUrl}/?q=${encodeURIComponent(title)}`)).text();
	const match = /\/classes\/([0-9a-f-]{36})/.exec(html);
	if (!match) throw new Error(`class not found: ${title}`);
	return match[1]!;
}

export function mediaSocket(baseUrl: string, cookie: string | null): Socket {
	return io(`${baseUrl}/media`, {
		transports: ['websocket'],
		reconnection: false,
		extraHeaders: cookie ? { cookie } : {}
	});
}

/** Connects, or rejects with the handshake error's message. */
export function connected(socket: Socket): Promise<void> {
	return new Promise((resolve, reject) => {
		socket.once('connect', () => resolve());
		socket.once('connect_error', (err) => reject(err));
	});
}

/** A test's '/media' connections, each connected on opening, all closed at the end. */
export class MediaSockets {
	readonly #opened: Socket[] = [];
	constructor(readonly baseUrl: () => string) {}

	/** Connected with this session cookie (or none); rejects with the handshake's error. */
	async open(cookie: string | null): Promise<Socket> {
		const socket = mediaSocket(this.baseUrl(), cookie);
		this.#opened.push(socket);
		await connected(socket);
		return socket;
	}

	/** Connected as this account, signed in afresh. */
	async as(account: keyof typeof ACCOUNTS): Promise<Socket> {
		return this.open(await loginCookie(this.baseUrl(), ACCOUNTS[account]));
	}

	close() {
		for (const socket of this.#opened) socket.disconnect();
	}
}

export function ask<T = { ok: boolean; error?: string; [k: string]: unknown }>(
	socket: Socket,
	event: string,
	payload: unknown
): Promise<T> {
	return socket.timeout(10_000).emitWithAck(event, payload) as Promise<T>;
}

/**
 * Headless Chromium has no screen to capture, so getDisplayMedia is stubbed
 * (in this test only) with a canvas stream of a moving "slide".
 */
export function stubScreenCapture() {
	navigator.mediaDevices.getDisplayMedia = async () => {
		const canvas = document.createElement('canvas');
		canvas.width = 1280;
		canvas.height = 720;
		const ctx = canvas.getContext('2d')!;
		let n = 0;
		setInterval(() => {
			ctx.fillStyle = '#fff';
			ctx.fillRect(0, 0, 1280, 720);
			ctx.fillStyle = '#b91c1c';
			ctx.font = '64px sans-serif';
			ctx.fillText(`留抵退税 第 ${n++} 帧`, 100 + (n % 200), 360);
		}, 1000 / 15);
		return canvas.captureStream(15);
	};
}

/**
 * A camera whose picture cannot be taken for Chromium's fake one: magenta with
 * moving white text, drawn on a canvas in place of the fake camera's video
 * (its sound, if asked for, stays). Two fake cameras show the same green
 * picture, so a picture-in-picture of one over the other is hard to see.
 */
export function stubDistinctCamera() {
	const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
	navigator.mediaDevices.getUserMedia = async (constraints) => {
		const stream = await original(constraints);
		if (!constraints?.video) return stream;
		const canvas = document.createElement('canvas');
		canvas.width = 640;
		canvas.height = 360;
		const ctx = canvas.getContext('2d')!;
		let n = 0;
		setInterval(() => {
			ctx.fillStyle = '#c026d3';
			ctx.fillRect(0, 0, 640, 360);
			ctx.fillStyle = '#fff';
			ctx.font = '48px sans-serif';
			ctx.fillText(`手语翻译 ${n++}`, 40 + (n % 100), 200);
		}, 1000 / 15);
		for (const track of stream.getVideoTracks()) {
			stream.removeTrack(track);
			track.stop();
		}
		stream.addTrack(canvas.captureStream(15).getVideoTracks()[0]!);
		return stream;
	};
}

/** A Q&A connection as the user whose session cookie this is (staff answering, others asking). */
export async function qaAs(baseUrl: string, classId: string, cookie: string): Promise<QaClient> {
	const client = new QaClient({
		url: baseUrl,
		classId,
		socketOptions: { extraHeaders: { cookie } }
	});
	const joined = await client.ready();
	if (!joined.ok) throw new Error(`Q&A join refused: ${joined.error}`);
	return client;
}

/** The instructor's studio (a page signed in as them, in zh-CN) goes live with its fake devices. */
export async function goLive(studio: Page, baseUrl: string, classId: string): Promise<void> {
	await studio.goto(`${baseUrl}/classes/${classId}/studio`);
	await studio.getByRole('button', { name: '开始直播' }).click({ timeout: 15_000 });
	await studio.getByRole('status').filter({ hasText: '直播中' }).first().waitFor();
}
