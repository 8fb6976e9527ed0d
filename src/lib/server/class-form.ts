import type { SessionUser } from './auth/session.ts';
import { parseForm } from '$lib/schemas/form.ts';
import { policyClassSchema } from '$lib/schemas/policy-class.ts';
import { toCstLocalInput } from '$lib/time.ts';

/** Parsing and prefilling for the class form shared by "new class" and "edit class". */

export function parseClassForm(formData: FormData, user: SessionUser) {
	// An instructor only ever schedules their own classes, whatever the form says.
	if (user.role === 'INSTRUCTOR') formData.set('instructorId', user.id);
	return parseForm(policyClassSchema, formData);
}

type ClassForForm = {
	title: string;
	summary: string;
	topics: string[];
	instructorId: string;
	startsAt: Date;
	durationMinutes: number;
	format: string;
	location: string | null;
	capacity: number;
	registrationOpensAt: Date;
	registrationClosesAt: Date;
	reservedSeats: number;
	reservedReleaseAt: Date | null;
};

/** The form's values for a saved class: times as China Standard Time inputs. */
export function classFormValues(cls: ClassForForm): Record<string, string> {
	return {
		title: cls.title,
		summary: cls.summary,
		topics: cls.topics.join('、'),
		instructorId: cls.instructorId,
		startsAt: toCstLocalInput(cls.startsAt),
		durationMinutes: String(cls.durationMinutes),
		format: cls.format,
		location: cls.location ?? '',
		capacity: String(cls.capacity),
		registrationOpensAt: toCstLocalInput(cls.registrationOpensAt),
		registrationClosesAt: toCstLocalInput(cls.registrationClosesAt),
		reservedSeats: String(cls.reservedSeats),
		// Empty: the default, 24 h before the start, which follows a new start time.
		reservedReleaseAt: cls.reservedReleaseAt ? toCstLocalInput(cls.reservedReleaseAt) : ''
	};
}
