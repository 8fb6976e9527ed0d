import { describe, expect, it } from 'vitest';
import {
	decideAccess,
	liveMediaOpen,
	may,
	type AccessFacts
} from '../../src/lib/server/class-access.ts';

const startsAt = new Date('2026-12-01T02:00:00Z');
const cls = (status: AccessFacts['cls']['status']) => ({
	id: 'c',
	instructorId: 'teacher',
	status,
	startsAt
});
const user = (id: string, role: 'TAXPAYER' | 'INSTRUCTOR' | 'STAFF' | 'ADMIN' = 'TAXPAYER') => ({
	id,
	role
});

describe('class access', () => {
	it('answers one level per person and class state', () => {
		const level = (facts: AccessFacts) => decideAccess(facts).level;
		expect(level({ user: user('s', 'STAFF'), cls: cls('LIVE'), registration: null })).toBe(
			'manage'
		);
		expect(
			level({ user: user('teacher', 'INSTRUCTOR'), cls: cls('LIVE'), registration: null })
		).toBe('manage');
		expect(level({ user: user('x', 'INSTRUCTOR'), cls: cls('LIVE'), registration: null })).toBe(
			'none'
		);
		expect(level({ user: user('t'), cls: cls('LIVE'), registration: 'CONFIRMED' })).toBe(
			'participate'
		);
		expect(level({ user: user('t'), cls: cls('ENDED'), registration: 'CONFIRMED' })).toBe('watch');
		expect(level({ user: user('t'), cls: cls('SCHEDULED'), registration: 'WAITLISTED' })).toBe(
			'readonly'
		);
		expect(level({ user: user('t'), cls: cls('ENDED'), registration: 'WAITLISTED' })).toBe('none');
		expect(level({ user: user('t'), cls: cls('CANCELLED'), registration: 'CONFIRMED' })).toBe(
			'none'
		);
		expect(level({ user: user('s', 'STAFF'), cls: cls('CANCELLED'), registration: null })).toBe(
			'manage'
		);
		expect(level({ user: null, cls: cls('LIVE'), registration: null })).toBe('none');
	});

	it('a public recording opens watching, not names or questions', () => {
		const a = decideAccess({
			user: null,
			cls: cls('ENDED'),
			registration: null,
			recordingVisibility: 'PUBLIC'
		});
		expect(a).toMatchObject({ level: 'watch', publicOnly: true });
		expect(may.watchReplay(a)).toBe(true);
		expect(may.seeAskerNames(a)).toBe(false);
		expect(may.followQa(a)).toBe(false);
		const registrant = decideAccess({
			user: user('t'),
			cls: cls('ENDED'),
			registration: 'CONFIRMED',
			recordingVisibility: 'PUBLIC'
		});
		expect(may.seeAskerNames(registrant)).toBe(true);
	});

	it('only the instructor or an admin presents, and only while the class runs', () => {
		const present = (u: ReturnType<typeof user>, status: AccessFacts['cls']['status']) =>
			may.present(decideAccess({ user: u, cls: cls(status), registration: null }));
		expect(present(user('teacher', 'INSTRUCTOR'), 'SCHEDULED')).toBe(true);
		expect(present(user('a', 'ADMIN'), 'LIVE')).toBe(true);
		expect(present(user('s', 'STAFF'), 'LIVE')).toBe(false);
		expect(present(user('teacher', 'INSTRUCTOR'), 'ENDED')).toBe(false);
	});

	it('the assigned interpreter publishes a camera, watches without a seat and never presents', () => {
		const withInterpreter = (status: AccessFacts['cls']['status'], interpreterId = 'signer') => ({
			...cls(status),
			interpreterId
		});
		const access = (u: ReturnType<typeof user>, status: AccessFacts['cls']['status']) =>
			decideAccess({ user: u, cls: withInterpreter(status), registration: null });
		for (const status of ['SCHEDULED', 'LIVE'] as const) {
			const a = access(user('signer'), status);
			expect(a.level).toBe('participate');
			expect(may.interpret(a)).toBe(true);
			expect(may.watchLive(a)).toBe(true);
			expect(may.present(a)).toBe(false);
			expect(may.manage(a)).toBe(false);
		}
		const after = access(user('signer'), 'ENDED');
		expect(after.level).toBe('watch');
		expect(may.interpret(after)).toBe(false);
		expect(may.watchReplay(after)).toBe(true);
		// Interpreting is not attending: no 满意度评价 for them.
		expect(may.beAskedToRate(after)).toBe(false);
		expect(access(user('signer'), 'CANCELLED').level).toBe('none');
		expect(may.interpret(access(user('signer'), 'CANCELLED'))).toBe(false);
		// Staff assigned as interpreter keep managing and interpret too.
		const staff = decideAccess({
			user: user('s', 'STAFF'),
			cls: withInterpreter('LIVE', 's'),
			registration: null
		});
		expect(may.manage(staff)).toBe(true);
		expect(may.interpret(staff)).toBe(true);
		expect(may.present(staff)).toBe(false);
		// Nobody else interprets: not the instructor, not a registrant, not a class without one.
		expect(may.interpret(access(user('teacher', 'INSTRUCTOR'), 'LIVE'))).toBe(false);
		expect(
			may.interpret(
				decideAccess({ user: user('t'), cls: withInterpreter('LIVE'), registration: 'CONFIRMED' })
			)
		).toBe(false);
		expect(
			may.interpret(decideAccess({ user: user('signer'), cls: cls('LIVE'), registration: null }))
		).toBe(false);
		// Reassigned: the previous interpreter has nothing left in the class.
		const previous = decideAccess({
			user: user('signer'),
			cls: withInterpreter('LIVE', 'other'),
			registration: null
		});
		expect(may.interpret(previous)).toBe(false);
		expect(previous.level).toBe('none');
	});

	it('opens live media half an hour before the start, or once live', () => {
		const viewer = (status: AccessFacts['cls']['status']) =>
			decideAccess({ user: user('t'), cls: cls(status), registration: 'CONFIRMED' });
		const early = new Date(startsAt.getTime() - 31 * 60_000);
		const soon = new Date(startsAt.getTime() - 29 * 60_000);
		expect(liveMediaOpen(viewer('SCHEDULED'), early)).toBe(false);
		expect(liveMediaOpen(viewer('SCHEDULED'), soon)).toBe(true);
		expect(liveMediaOpen(viewer('LIVE'), early)).toBe(true);
	});
});
