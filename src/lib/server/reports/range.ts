import { z } from 'zod';
import { monthOf } from './report.ts';

const month = z
	.string()
	.regex(/^\d{4}-(0[1-9]|1[0-2])$/)
	.optional()
	.catch(undefined);
const rangeSchema = z.object({ from: month, to: month });

/**
 * The months a cross-class report covers (YYYY-MM, inclusive), from the query
 * string; by default the last 12 months. A reversed range is put right.
 */
export function reportRange(url: URL, now = new Date()): { from: string; to: string } {
	const parsed = rangeSchema.parse(Object.fromEntries(url.searchParams));
	const yearAgo = new Date(now);
	yearAgo.setUTCMonth(yearAgo.getUTCMonth() - 11);
	const from = parsed.from ?? monthOf(yearAgo);
	const to = parsed.to ?? monthOf(now);
	return from <= to ? { from, to } : { from: to, to: from };
}
