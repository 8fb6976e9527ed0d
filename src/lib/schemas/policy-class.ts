import { z } from 'zod';
import { parseCstLocal } from '$lib/time.ts';

const cstDateTime = (requiredKey: string) =>
	z
		.string()
		.min(1, requiredKey)
		.transform((value, ctx) => {
			const date = parseCstLocal(value);
			if (!date) {
				ctx.addIssue({ code: 'custom', message: 'error_datetime_invalid' });
				return z.NEVER;
			}
			return date;
		});

/** Topic tags typed as one field, separated by commas (either width) or 、. */
const topics = z
	.string()
	.transform((value) => [
		...new Set(
			value
				.split(/[,，、;；]/)
				.map((t) => t.trim())
				.filter(Boolean)
		)
	])
	.pipe(
		z
			.array(z.string().max(20, 'error_topic_too_long'))
			.min(1, 'error_topics_required')
			.max(6, 'error_topics_too_many')
	);

export const policyClassSchema = z
	.object({
		title: z.string().trim().min(2, 'error_title_required').max(100, 'error_title_too_long'),
		summary: z.string().trim().min(1, 'error_summary_required').max(2000, 'error_summary_too_long'),
		topics,
		instructorId: z.string().uuid('error_instructor_required'),
		startsAt: cstDateTime('error_starts_at_required'),
		durationMinutes: z.coerce
			.number({ message: 'error_duration_invalid' })
			.int('error_duration_invalid')
			.min(10, 'error_duration_invalid')
			.max(600, 'error_duration_invalid'),
		format: z.enum(['ONLINE', 'IN_PERSON', 'HYBRID'], { message: 'error_format_required' }),
		location: z
			.string()
			.trim()
			.max(200, 'error_location_too_long')
			.transform((v) => v || null),
		capacity: z.coerce
			.number({ message: 'error_capacity_invalid' })
			.int('error_capacity_invalid')
			.min(1, 'error_capacity_invalid')
			.max(100_000, 'error_capacity_invalid'),
		registrationOpensAt: cstDateTime('error_opens_at_required'),
		registrationClosesAt: cstDateTime('error_closes_at_required')
	})
	.superRefine((value, ctx) => {
		if (value.format !== 'ONLINE' && !value.location) {
			ctx.addIssue({ code: 'custom', path: ['location'], message: 'error_location_required' });
		}
		// zod still runs this refinement when a time field only failed its `min(1)`
		// check; its value is then the raw string, not a Date.
		const times = [value.startsAt, value.registrationOpensAt, value.registrationClosesAt];
		if (!times.every((t) => (t as unknown) instanceof Date)) return;
		if (value.registrationClosesAt <= value.registrationOpensAt) {
			ctx.addIssue({
				code: 'custom',
				path: ['registrationClosesAt'],
				message: 'error_closes_before_opens'
			});
		}
		const endsAt = value.startsAt.getTime() + value.durationMinutes * 60_000;
		if (value.registrationClosesAt.getTime() > endsAt) {
			ctx.addIssue({
				code: 'custom',
				path: ['registrationClosesAt'],
				message: 'error_closes_after_class'
			});
		}
	});

export type PolicyClassInput = z.infer<typeof policyClassSchema>;

export const cancelClassSchema = z.object({
	reason: z
		.string()
		.trim()
		.min(2, 'error_cancel_reason_required')
		.max(300, 'error_cancel_reason_too_long')
});
