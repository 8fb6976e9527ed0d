import { m } from '$lib/paraglide/messages.js';

type MessageFn = (params?: Record<string, string | number>) => string;

/** Render a Q&A message key from the server (with its parameters) in the reader's language. */
export function qaMessage(key: string, params: Record<string, string | number> = {}): string {
	const fn = (m as unknown as Record<string, MessageFn | undefined>)[key];
	return key.startsWith('qa_') && fn ? fn(params) : m.qa_error_server();
}

/** A class-time offset as m:ss or h:mm:ss. */
export function formatOffset(ms: number): string {
	const total = Math.floor(ms / 1000);
	const h = Math.floor(total / 3600);
	const mm = Math.floor((total % 3600) / 60);
	const ss = String(total % 60).padStart(2, '0');
	return h ? `${h}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

export function formatClock(iso: string, locale: string): string {
	return new Intl.DateTimeFormat(locale, {
		timeZone: 'Asia/Shanghai',
		hour: '2-digit',
		minute: '2-digit',
		hourCycle: 'h23'
	}).format(new Date(iso));
}
