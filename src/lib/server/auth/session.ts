import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import type { Db } from '../db/client.ts';
import type { Role } from '../db/generated/enums.ts';

/**
 * Sessions as in the Lucia guide: the cookie holds a random token, the database
 * holds only its SHA-256, and activity slides the expiry forward.
 */
export const SESSION_COOKIE = 'tc_session';
const DAY_MS = 24 * 3600_000;

export type SessionUser = {
	id: string;
	role: Role;
	displayName: string;
	email: string | null;
	phone: string | null;
	priorityService: boolean;
};

export type ValidatedSession = { id: string; expiresAt: Date; user: SessionUser };

export function generateSessionToken(): string {
	const bytes = new Uint8Array(20);
	crypto.getRandomValues(bytes);
	return encodeBase32LowerCaseNoPadding(bytes);
}

export function sessionIdFromToken(token: string): string {
	return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

export async function createSession(db: Db, userId: string, days: number) {
	const token = generateSessionToken();
	const expiresAt = new Date(Date.now() + days * DAY_MS);
	await db.session.create({ data: { id: sessionIdFromToken(token), userId, expiresAt } });
	return { token, expiresAt };
}

export async function validateSessionToken(
	db: Db,
	token: string,
	days: number
): Promise<ValidatedSession | null> {
	const id = sessionIdFromToken(token);
	const row = await db.session.findUnique({
		where: { id },
		include: {
			user: {
				select: {
					id: true,
					role: true,
					displayName: true,
					email: true,
					phone: true,
					priorityService: true,
					disabledAt: true
				}
			}
		}
	});
	if (!row) return null;
	const now = Date.now();
	if (row.expiresAt.getTime() <= now || row.user.disabledAt) {
		await db.session.deleteMany({ where: { id } });
		return null;
	}
	let expiresAt = row.expiresAt;
	// Extend once less than half the lifetime is left, so busy users stay signed in
	// without a database write on every request.
	if (expiresAt.getTime() - now < (days * DAY_MS) / 2) {
		expiresAt = new Date(now + days * DAY_MS);
		await db.session.update({ where: { id }, data: { expiresAt } });
	}
	const { disabledAt: _disabled, ...user } = row.user;
	return { id, expiresAt, user };
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
	await db.session.deleteMany({ where: { id: sessionId } });
}

export async function invalidateAllSessions(db: Db, userId: string): Promise<void> {
	await db.session.deleteMany({ where: { userId } });
}
