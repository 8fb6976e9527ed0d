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
	/** 关怀模式 as chosen on the account; null when never chosen (see care-mode.ts). */
	careMode: boolean | null;
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
	const id = sessionIdFromToken(token);
	const expiresAt = new Date(Date.now() + days * DAY_MS);
	await db.session.create({ data: { id, userId, expiresAt } });
	return { token, id, expiresAt };
}

const sessionUserSelect = {
	id: true,
	role: true,
	displayName: true,
	email: true,
	phone: true,
	priorityService: true,
	careMode: true,
	disabledAt: true
} as const;

export async function validateSessionToken(
	db: Db,
	token: string,
	days: number
): Promise<ValidatedSession | null> {
	const [session] = await validateSessionTokens(db, [token], days);
	return session ?? null;
}

/**
 * Several tokens validated together (a burst of requests arriving at once),
 * each answered as validateSessionToken would: null when unknown, expired or
 * disabled, the expiry slid forward when due. One read, then at most one
 * delete and one update for the whole batch.
 */
export async function validateSessionTokens(
	db: Db,
	tokens: string[],
	days: number
): Promise<(ValidatedSession | null)[]> {
	const ids = tokens.map(sessionIdFromToken);
	const rows = await db.session.findMany({
		where: { id: { in: [...new Set(ids)] } },
		include: { user: { select: sessionUserSelect } }
	});
	const now = Date.now();
	const extended = new Date(now + days * DAY_MS);
	const ended: string[] = [];
	const sliding: string[] = [];
	const settled = new Map<string, ValidatedSession>();
	for (const row of rows) {
		if (row.expiresAt.getTime() <= now || row.user.disabledAt) {
			ended.push(row.id);
			continue;
		}
		let expiresAt = row.expiresAt;
		// Extend once less than half the lifetime is left, so busy users stay signed in
		// without a database write on every request.
		if (expiresAt.getTime() - now < (days * DAY_MS) / 2) {
			expiresAt = extended;
			sliding.push(row.id);
		}
		const { disabledAt: _disabled, ...user } = row.user;
		settled.set(row.id, { id: row.id, expiresAt, user });
	}
	await Promise.all([
		ended.length ? db.session.deleteMany({ where: { id: { in: ended } } }) : undefined,
		sliding.length
			? db.session.updateMany({ where: { id: { in: sliding } }, data: { expiresAt: extended } })
			: undefined
	]);
	return ids.map((id) => settled.get(id) ?? null);
}

/** The user as a session carries it, read afresh; null when gone or disabled. */
export async function loadSessionUser(db: Db, userId: string): Promise<SessionUser | null> {
	const row = await db.user.findUnique({ where: { id: userId }, select: sessionUserSelect });
	if (!row || row.disabledAt) return null;
	const { disabledAt: _disabled, ...user } = row;
	return user;
}

/** When a session expires now (activity may have moved it); null when it is gone. */
export async function sessionExpiry(db: Db, sessionId: string): Promise<Date | null> {
	const row = await db.session.findUnique({
		where: { id: sessionId },
		select: { expiresAt: true }
	});
	return row?.expiresAt ?? null;
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
	await db.session.deleteMany({ where: { id: sessionId } });
}

export async function invalidateAllSessions(db: Db, userId: string): Promise<void> {
	await db.session.deleteMany({ where: { userId } });
}
