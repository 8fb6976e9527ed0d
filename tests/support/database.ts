import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
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

export type PrivateDatabase = { url: string; drop: () => Promise<void> };

/**
 * A database of its own on the server of the run's DATABASE_URL, migrated
 * (and seeded when asked), for tests whose processes act on every row they
 * see: other test files' rows stay out of their way, and theirs out of others'.
 */
export async function privateServerDatabase(
	options: { seed?: boolean } = {}
): Promise<PrivateDatabase> {
	const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
	await admin.connect();
	const name = `tc_test_${process.pid}_${randomUUID().slice(0, 8)}`;
	await admin.query(`CREATE DATABASE ${name}`);
	const drop = async () => {
		await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
		await admin.end();
	};
	const url = new URL(process.env.DATABASE_URL!);
	url.pathname = `/${name}`;
	const env = { ...process.env, DATABASE_URL: url.toString() };
	try {
		execFileSync('npx', ['prisma', 'migrate', 'deploy'], { env, stdio: 'pipe' });
		if (options.seed) execFileSync('npx', ['tsx', 'prisma/seed.ts'], { env, stdio: 'pipe' });
	} catch (error) {
		await drop();
		throw error;
	}
	return { url: url.toString(), drop };
}
