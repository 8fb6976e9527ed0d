/**
 * The bureau works in China Standard Time. Instants are stored as UTC; they are
 * shown and entered in Asia/Shanghai whatever the server's own time zone.
 * China has no daylight saving time, so the offset is a constant +08:00.
 */
export const CLASS_TIME_ZONE = 'Asia/Shanghai';
const CST_OFFSET = '+08:00';

/** Parse the value of an <input type="datetime-local"> as China Standard Time. */
export function parseCstLocal(value: string): Date | null {
	if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
	const date = new Date(`${value.length === 16 ? `${value}:00` : value}${CST_OFFSET}`);
	if (Number.isNaN(date.getTime())) return null;
	// V8 rolls impossible days over (2026-02-30 becomes March 2): refuse them instead.
	return toCstLocalInput(date) === value.slice(0, 16) ? date : null;
}

/** Parse an <input type="date"> value as the start of that day in China Standard Time. */
export function parseCstDate(value: string): Date | null {
	return /^\d{4}-\d{2}-\d{2}$/.test(value) ? parseCstLocal(`${value}T00:00`) : null;
}

/** Format an instant for an <input type="datetime-local"> in China Standard Time. */
export function toCstLocalInput(date: Date): string {
	const shifted = new Date(date.getTime() + 8 * 3600_000);
	return shifted.toISOString().slice(0, 16);
}

/** "YYYY-MM-DD HH:mm:ss" in China Standard Time: sorts and parses well in spreadsheets and logs. */
export function toCstTimestamp(date: Date): string {
	return new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

// Building a formatter loads ICU data and costs far more than formatting with
// it: the cross-class report formats a date per class. Locales are the app's own.
const formatters = new Map<string, Intl.DateTimeFormat>();

export function formatCst(
	date: Date,
	locale: string,
	style: 'datetime' | 'date' | 'time' = 'datetime'
): string {
	const key = `${locale} ${style}`;
	let formatter = formatters.get(key);
	if (!formatter) {
		const options: Intl.DateTimeFormatOptions = { timeZone: CLASS_TIME_ZONE };
		if (style !== 'time')
			Object.assign(options, { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' });
		if (style !== 'date')
			Object.assign(options, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
		formatter = new Intl.DateTimeFormat(locale, options);
		formatters.set(key, formatter);
	}
	return formatter.format(date);
}
