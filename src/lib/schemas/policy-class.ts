import { z } from '../zod.ts';
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
		registrationClosesAt: cstDateTime('error_closes_at_required'),
		// 爱心专座: none when left empty; released by default 24 h before the start (null).
		reservedSeats: z
			.string()
			.trim()
			.default('0')
			.transform((v) => Number(v || '0'))
			.pipe(
				z
					.number({ message: 'error_reserved_seats_invalid' })
					.int('error_reserved_seats_invalid')
					.min(0, 'error_reserved_seats_invalid')
			),
		reservedReleaseAt: z
			.string()
			.default('')
			.transform((value, ctx) => {
				if (!value) return null;
				const date = parseCstLocal(value);
				if (!date) ctx.addIssue({ code: 'custom', message: 'error_datetime_invalid' });
				return date;
			})
	})
	.superRefine((value, ctx) => {
		if (value.format !== 'ONLINE' && !value.location) {
			ctx.addIssue({ code: 'custom', path: ['location'], message: 'error_location_required' });
		}
		if (
			typeof value.capacity === 'number' &&
			typeof value.reservedSeats === 'number' &&
			value.reservedSeats > value.capacity
		) {
			ctx.addIssue({
				code: 'custom',
				path: ['reservedSeats'],
				message: 'error_reserved_seats_over_capacity'
			});
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
		if (value.reservedReleaseAt instanceof Date && value.reservedReleaseAt > value.startsAt) {
			ctx.addIssue({
				code: 'custom',
				path: ['reservedReleaseAt'],
				message: 'error_reserved_release_after_start'
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

/** 手语翻译: the interpreter's account by mobile or email; empty removes the interpreter. */
export const interpreterSchema = z.object({
	interpreter: z.string().trim().max(100, 'error_interpreter_unknown')
});

export const cancelClassSchema = z.object({
	reason: z
		.string()
		.trim()
		.min(2, 'error_cancel_reason_required')
		.max(300, 'error_cancel_reason_too_long')
});
