import { recordAudit } from './audit.ts';
import type { SessionUser } from './auth/session.ts';
import type { Db } from './db/client.ts';
import type { EventBus } from './events.ts';
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
	input: ProfileInput & {
		contact: Contact;
		password: string;
		role?: Role;
		/** 关怀模式 as chosen in this browser before signing up (see care-mode.ts). */
		careMode?: boolean | null;
		/** The language emails are written in: the one the user signed up in. */
		locale?: EmailSettings['locale'];
	}
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

/** How an account is looked up (and throttled) by what was typed: null when neither form. */
export function contactLookup(contact: string): { phone: string } | { email: string } | null {
	if (isMobile(contact)) return { phone: normalizeMobile(contact) };
	if (isEmail(contact)) return { email: contact.trim().toLowerCase() };
	return null;
}

/** Find the user by mobile or email and check the password; null when either is wrong. */
export async function authenticate(db: Db, contact: string, password: string) {
	const where = contactLookup(contact);
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
			priorityReason: true,
			emailReminders: true,
			locale: true
		}
	});
}

export type EmailSettings = { emailReminders: boolean; locale: 'zh-CN' | 'en' };

/** Whether class emails are sent to the user, and in which language. */
export async function updateEmailSettings(db: Db, userId: string, settings: EmailSettings) {
	await db.user.update({ where: { id: userId }, data: settings });
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

/**
 * Change a role or enable/disable, refusing to leave the site without an
 * active admin. The change and its audit entry commit together; then the
 * user's open connections are told (a disabled account's sessions end).
 */
export async function updateUserAccess(
	db: Db,
	events: EventBus,
	actor: Pick<SessionUser, 'id' | 'displayName' | 'role'>,
	userId: string,
	change: { role?: Role; disabled?: boolean }
): Promise<'ok' | 'last_admin' | 'not_found'> {
	const outcome = await db.$transaction(async (tx) => {
		const user = await tx.user.findUnique({
			where: { id: userId },
			select: { role: true, displayName: true, disabledAt: true }
		});
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
		const target = { type: 'user' as const, id: userId, label: user.displayName };
		if (change.role && change.role !== user.role) {
			await recordAudit(tx, {
				actor,
				action: 'user.role_changed',
				target,
				details: { from: user.role, to: change.role }
			});
		}
		if (change.disabled !== undefined && change.disabled !== (user.disabledAt !== null)) {
			await recordAudit(tx, {
				actor,
				action: change.disabled ? 'user.disabled' : 'user.enabled',
				target
			});
		}
		return 'ok';
	});
	if (outcome !== 'ok') return outcome;
	if (change.disabled) {
		await events.publish('sessions.revoked', { userId, sessionIds: null, reason: 'disabled' });
	}
	await events.publish('access.changed', {
		userId,
		classId: null,
		reason: change.disabled ? 'disabled' : change.disabled === false ? 'enabled' : 'role_changed'
	});
	return 'ok';
}
