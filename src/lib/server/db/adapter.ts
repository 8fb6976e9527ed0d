import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { readEnv } from '../env.ts';

const PG_TYPE_NAME = 19;
const PG_TYPE_TEXT = 25;

/**
 * The schema engine's catalog queries return columns of type `name`, which the
 * pg adapter cannot deserialize (prisma/orm#27403). Reporting them as text is
 * enough for `migrate deploy`; application queries never select `name` columns.
 */
class NameAsTextClient extends pg.Client {
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	override query(...args: any[]): any {
		const relabel = (result: pg.QueryResult | undefined) => {
			for (const field of result?.fields ?? []) {
				if (field.dataTypeID === PG_TYPE_NAME) field.dataTypeID = PG_TYPE_TEXT;
			}
			return result;
		};
		const callbackIndex = args.findIndex((a) => typeof a === 'function');
		if (callbackIndex >= 0) {
			const callback = args[callbackIndex] as (err: Error | null, r?: pg.QueryResult) => void;
			args[callbackIndex] = (err: Error | null, result?: pg.QueryResult) =>
				callback(err, relabel(result));
			return super.query(...(args as Parameters<pg.Client['query']>));
		}
		const returned: unknown = super.query(...(args as Parameters<pg.Client['query']>));
		return returned instanceof Promise ? returned.then(relabel) : returned;
	}
}

export function createPostgresAdapter(connectionString: string, forMigrations = false) {
	return new PrismaPg({
		connectionString,
		max: 10,
		...(forMigrations ? { Client: NameAsTextClient } : {})
	});
}

export async function openPGlite(dataDir: string): Promise<PGlite> {
	fs.mkdirSync(dataDir, { recursive: true });
	const pglite = new PGlite(dataDir);
	await pglite.waitReady;
	return pglite;
}

/** Adapter used by the Prisma CLI (prisma.config.ts) for `migrate deploy` and seeding. */
export async function createMigrationAdapter() {
	const env = readEnv();
	if (env.DATABASE_URL) return createPostgresAdapter(env.DATABASE_URL, true);
	return new PrismaPGlite(await openPGlite(env.PGLITE_DIR));
}
