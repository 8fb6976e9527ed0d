import { PrismaPGlite } from 'pglite-prisma-adapter';
import { readEnv } from '../env.ts';
import { createPostgresAdapter, openPGlite } from './adapter.ts';
import { PrismaClient, type Prisma } from './generated/client.ts';

export type Db = PrismaClient;
type AdapterFactory = NonNullable<Prisma.PrismaClientOptions['adapter']>;

// Interactive transactions queue on PGlite's single connection, so bursts of
// registrations need far more than Prisma's default 2 s to get a turn.
const transactionOptions = { maxWait: 120_000, timeout: 30_000 };

export async function createDb(
	env: { DATABASE_URL?: string; PGLITE_DIR: string } = readEnv()
): Promise<Db> {
	const adapter = env.DATABASE_URL
		? createPostgresAdapter(env.DATABASE_URL)
		: // Built against another copy of @prisma/driver-adapter-utils; same interface.
			(new PrismaPGlite(await openPGlite(env.PGLITE_DIR)) as unknown as AdapterFactory);
	return new PrismaClient({ adapter, transactionOptions });
}
