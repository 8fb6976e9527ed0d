import { Prisma } from './generated/client.ts';

/**
 * A unique constraint violation, whichever adapter reported it: @prisma/adapter-pg
 * maps it to Prisma's P2002, but pglite-prisma-adapter passes the raw PostgreSQL
 * error through (a DriverAdapterError whose cause has SQLSTATE 23505).
 */
export function isUniqueViolation(e: unknown): boolean {
	if (e instanceof Prisma.PrismaClientKnownRequestError) return e.code === 'P2002';
	const cause = (e as { name?: string; cause?: { kind?: string; code?: string } } | null)?.cause;
	return (
		(e as { name?: string } | null)?.name === 'DriverAdapterError' &&
		((cause?.kind === 'postgres' && cause.code === '23505') ||
			cause?.kind === 'UniqueConstraintViolation')
	);
}
