import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/lib/server/db/client.ts';
import type { Role } from '../../src/lib/server/db/generated/enums.ts';

/** Rows made directly, for tests whose subject is not account creation itself. */

// A fixed, precomputed argon2 hash keeps bulk user creation fast; its password is 'password123'.
export const FIXTURE_PASSWORD = 'password123';
const FIXTURE_HASH =
	'$argon2id$v=19$m=19456,t=2,p=1$Z9fjaFkzVx8O9Z43+8KLfQ$ghvbgoM7mp8IB9hfSZ0jSTJX49NDFeeo7ICdkcfbjKE';

export async function makeUser(db: Db, role: Role = 'TAXPAYER', name = `测试用户-${role}`) {
	return db.user.create({
		data: {
			role,
			displayName: name,
			email: `${randomUUID()}@test.example`,
			passwordHash: FIXTURE_HASH
		}
	});
}

/** `priority(i)` marks the i-th as an 爱心通道 (priority service) user. */
export async function makeUsers(
	db: Db,
	count: number,
	priority: (i: number) => boolean = () => false
) {
	const data = Array.from({ length: count }, (_, i) => ({
		id: randomUUID(),
		role: 'TAXPAYER' as const,
		displayName: `纳税人${i + 1}`,
		email: `${randomUUID()}@test.example`,
		passwordHash: FIXTURE_HASH,
		priorityService: priority(i)
	}));
	await db.user.createMany({ data });
	return data.map((u) => u.id);
}

export async function makeClass(
	db: Db,
	overrides: Partial<{
		capacity: number;
		status: 'SCHEDULED' | 'LIVE' | 'ENDED' | 'CANCELLED';
		registrationOpensAt: Date;
		registrationClosesAt: Date;
		startsAt: Date;
		instructorId: string;
		format: 'ONLINE' | 'IN_PERSON' | 'HYBRID';
		location: string | null;
		title: string;
		reservedSeats: number;
		reservedReleaseAt: Date | null;
	}> = {}
) {
	const now = Date.now();
	const instructorId = overrides.instructorId ?? (await makeUser(db, 'INSTRUCTOR')).id;
	return db.policyClass.create({
		data: {
			title: '增值税留抵退税测试课',
			summary: '测试用课程',
			topics: ['增值税'],
			startsAt: new Date(now + 7 * 24 * 3600_000),
			durationMinutes: 60,
			format: 'ONLINE',
			capacity: 50,
			registrationOpensAt: new Date(now - 24 * 3600_000),
			registrationClosesAt: new Date(now + 6 * 24 * 3600_000),
			...overrides,
			instructorId
		}
	});
}
