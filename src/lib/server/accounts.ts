import type { Db } from './db/client.ts';
import { isUniqueViolation } from './db/errors.ts';
import type { PriorityReason, Role } from './db/generated/enums.ts';
import { hashPassword, verifyPassword } from './auth/password.ts';
import { isEmail, isMobile, normalizeMobile } from '$lib/validation/contact.ts';

/** Accounts: sign-up, sign-in, profile and roles. */

export type Contact = { kind: 'email' | 'phone'; value: string };

export type ProfileInput = {
	displayName: string;
	companyName: string | null;
	creditCode: string | null;
	priorityService: boolean;
	priorityReason: PriorityReason | null;
};

export async function createAccount(
	db: Db,
	input: ProfileInput & { contact: Contact; password: string; role?: Role }
): Promise<{ ok: true; userId: string } | { ok: false; reason: 'contact_taken' }> {
	const { contact, password, role, ...profile } = input;
	try {
		const user = await db.user.create({
			data: {
				...profile,
				priorityReason: profile.priorityService ? profile.priorityReason : null,
				role: role ?? 'TAXPAYER',
				[contact.kind]: contact.value,
				passwordHash: await hashPassword(password)
			},
			select: { id: true }
		});
		return { ok: true, userId: user.id };
	} catch (e) {
		if (isUniqueViolation(e)) {
			return { ok: false, reason: 'contact_taken' };
		}
		throw e;
	}
}

/** Find the user by mobile or email and check the password; null when either is wrong. */
export async function authenticate(db: Db, contact: string, password: string) {
	const where = isMobile(contact)
		? { phone: normalizeMobile(contact) }
		: isEmail(contact)
			? { email: contact.trim().toLowerCase() }
			: null;
	const user = where
		? await db.user.findUnique({
				where,
				select: { id: true, passwordHash: true, disabledAt: true }
			})
		: null;
	// Verify even without a user, so response time does not reveal who has an account.
	const valid = await verifyPassword(user?.passwordHash ?? DUMMY_HASH, password);
	return user && valid && !user.disabledAt ? { id: user.id } : null;
}

const DUMMY_HASH =
	'$argon2id$v=19$m=19456,t=2,p=1$tk+1v4oR69w2cFB1fqUIcg$nfdqk9eae4Wk4pg8UKV4EmROL5kRYWFYLYD/bfS+Wkg';

export async function getProfile(db: Db, userId: string) {
	return db.user.findUniqueOrThrow({
		where: { id: userId },
		select: {
			displayName: true,
			email: true,
			phone: true,
			companyName: true,
			creditCode: true,
			priorityService: true,
			priorityReason: true
		}
	});
}

export async function updateProfile(db: Db, userId: string, input: ProfileInput) {
	await db.user.update({
		where: { id: userId },
		data: { ...input, priorityReason: input.priorityService ? input.priorityReason : null }
	});
}

export async function changePassword(
	db: Db,
	userId: string,
	currentPassword: string,
	newPassword: string
): Promise<boolean> {
	const user = await db.user.findUniqueOrThrow({
		where: { id: userId },
		select: { passwordHash: true }
	});
	if (!(await verifyPassword(user.passwordHash, currentPassword))) return false;
	await db.user.update({
		where: { id: userId },
		data: { passwordHash: await hashPassword(newPassword) }
	});
	return true;
}

export async function listUsers(db: Db, q: string) {
	const query = q.trim();
	return db.user.findMany({
		where: query
			? {
					OR: [
						{ displayName: { contains: query, mode: 'insensitive' } },
						{ email: { contains: query.toLowerCase() } },
						{ phone: { contains: query } }
					]
				}
			: {},
		select: {
			id: true,
			displayName: true,
			email: true,
			phone: true,
			role: true,
			priorityService: true,
			disabledAt: true,
			createdAt: true
		},
		orderBy: { createdAt: 'asc' },
		take: 500
	});
}

/** Change a role or enable/disable, refusing to leave the site without an active admin. */
export async function updateUserAccess(
	db: Db,
	userId: string,
	change: { role?: Role; disabled?: boolean }
): Promise<'ok' | 'last_admin' | 'not_found'> {
	return db.$transaction(async (tx) => {
		const user = await tx.user.findUnique({ where: { id: userId }, select: { role: true } });
		if (!user) return 'not_found';
		const losesAdmin =
			user.role === 'ADMIN' &&
			(change.disabled === true || (change.role && change.role !== 'ADMIN'));
		if (losesAdmin) {
			const otherAdmins = await tx.user.count({
				where: { role: 'ADMIN', disabledAt: null, id: { not: userId } }
			});
			if (otherAdmins === 0) return 'last_admin';
		}
		await tx.user.update({
			where: { id: userId },
			data: {
				...(change.role ? { role: change.role } : {}),
				...(change.disabled === undefined
					? {}
					: { disabledAt: change.disabled ? new Date() : null })
			}
		});
		if (change.disabled) await tx.session.deleteMany({ where: { userId } });
		return 'ok';
	});
}
