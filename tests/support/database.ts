import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { openPGlite } from '../../src/lib/server/db/adapter.ts';
import { createDb, type Db } from '../../src/lib/server/db/client.ts';
import { PrismaClient, type Prisma } from '../../src/lib/server/db/generated/client.ts';

export type TestDatabase = { db: Db; kind: 'pglite' | 'postgres'; close: () => Promise<void> };

/** A fresh copy of the migrated PGlite template, in its own folder. */
export function copyPgliteTemplate(seeded = false): string {
	const dir = path.join(inject('workDir'), `db-${randomUUID()}`);
	fs.cpSync(inject(seeded ? 'pgliteSeededTemplate' : 'pgliteTemplate'), dir, { recursive: true });
	return dir;
}

/**
 * The database integration tests run against: server PostgreSQL when the run
 * has DATABASE_URL (a database migrated for this run, shared by test files, so
 * tests create their own rows), otherwise a private migrated PGlite copy.
 */
export async function openTestDatabase(): Promise<TestDatabase> {
	const serverUrl = inject('serverDatabaseUrl');
	const db = serverUrl
		? await createDb({ DATABASE_URL: serverUrl, PGLITE_DIR: '' })
		: await createDb({ PGLITE_DIR: copyPgliteTemplate() });
	return { db, kind: serverUrl ? 'postgres' : 'pglite', close: () => db.$disconnect() };
}

/**
 * Writes to a PGlite folder before an app server opens it (one process per
 * folder): opens it, runs `write`, and closes it again.
 */
export async function writePglite<T>(dir: string, write: (db: Db) => Promise<T>): Promise<T> {
	const pglite = await openPGlite(dir);
	const db = new PrismaClient({
		// Built against another copy of @prisma/driver-adapter-utils; same interface.
		adapter: new PrismaPGlite(pglite) as unknown as NonNullable<
			Prisma.PrismaClientOptions['adapter']
		>
	});
	try {
		return await write(db);
	} finally {
		await db.$disconnect();
		await pglite.close();
	}
}
