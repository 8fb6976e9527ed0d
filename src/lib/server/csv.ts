import { attachmentDisposition } from './download.ts';

/**
 * A small CSV writer for exports opened in Excel or WPS: UTF-8 with a byte order
 * mark (so Chinese text is not garbled), CRLF line ends, RFC 4180 quoting, and
 * cells that a spreadsheet would run as a formula neutralized with a leading quote.
 */

export type CsvCell = string | number | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

/** Escape one cell. Numbers are written as they are; text that looks like a formula is defused. */
export function csvCell(value: CsvCell): string {
	if (value === null || value === undefined) return '';
	let text = typeof value === 'number' ? String(value) : value;
	if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
	return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(headers: string[], rows: CsvCell[][]): string {
	const lines = [headers, ...rows].map((row) => row.map(csvCell).join(','));
	return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/**
 * Response headers for a CSV download; the name as `attachmentDisposition`
 * writes it.
 */
export function csvHeaders(filename: string, asciiName = 'export.csv'): Record<string, string> {
	return {
		'content-type': 'text/csv; charset=utf-8',
		'content-disposition': attachmentDisposition(filename, asciiName),
		'cache-control': 'no-store'
	};
}
