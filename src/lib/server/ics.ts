/** iCalendar (RFC 5545) export of one class. */

function icsTime(date: Date): string {
	return date
		.toISOString()
		.replace(/[-:]/g, '')
		.replace(/\.\d{3}/, '');
}

function escapeText(text: string): string {
	return (
		text
			.replace(/\\/g, '\\\\')
			// Any line break (CRLF, CR or LF) is one escaped newline: a raw CR would
			// end the content line and let the text inject properties.
			.replace(/\r\n|\r|\n/g, '\\n')
			.replace(/([,;])/g, '\\$1')
	);
}

/** Lines longer than 75 octets are folded; multi-byte characters are never split. */
function fold(line: string): string {
	const encoder = new TextEncoder();
	const parts: string[] = [];
	let current = '';
	for (const char of line) {
		const limit = parts.length === 0 ? 75 : 74;
		if (encoder.encode(current + char).length > limit) {
			parts.push(current);
			current = char;
		} else {
			current += char;
		}
	}
	parts.push(current);
	return parts.join('\r\n ');
}

export type CalendarClass = {
	id: string;
	title: string;
	summary: string;
	startsAt: Date;
	durationMinutes: number;
	location: string | null;
	status: string;
	updatedAt: Date;
};

export function classToIcs(cls: CalendarClass, pageUrl: string, host: string): string {
	const end = new Date(cls.startsAt.getTime() + cls.durationMinutes * 60_000);
	const lines = [
		'BEGIN:VCALENDAR',
		'VERSION:2.0',
		'PRODID:-//Taxpayer Classroom//纳税人学堂//ZH',
		'CALSCALE:GREGORIAN',
		'METHOD:PUBLISH',
		'BEGIN:VEVENT',
		`UID:${cls.id}@${host}`,
		`DTSTAMP:${icsTime(cls.updatedAt)}`,
		`DTSTART:${icsTime(cls.startsAt)}`,
		`DTEND:${icsTime(end)}`,
		`SUMMARY:${escapeText(cls.title)}`,
		`DESCRIPTION:${escapeText(`${cls.summary}\n${pageUrl}`)}`,
		`URL:${pageUrl}`,
		...(cls.location ? [`LOCATION:${escapeText(cls.location)}`] : []),
		`STATUS:${cls.status === 'CANCELLED' ? 'CANCELLED' : 'CONFIRMED'}`,
		'BEGIN:VALARM',
		'ACTION:DISPLAY',
		'TRIGGER:-PT30M',
		`DESCRIPTION:${escapeText(cls.title)}`,
		'END:VALARM',
		'END:VEVENT',
		'END:VCALENDAR'
	];
	return lines.map(fold).join('\r\n') + '\r\n';
}
