import { z } from 'zod';

/** Server configuration, read once from the environment and validated. */
const envSchema = z.object({
	DATABASE_URL: z
		.string()
		.regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
		.optional(),
	PGLITE_DIR: z.string().min(1).default('./data/pglite'),
	REDIS_URL: z
		.string()
		.regex(/^rediss?:\/\//, 'REDIS_URL must be a redis:// URL')
		.optional(),
	RECORDINGS_DIR: z.string().min(1).default('./data/recordings'),
	SESSION_DAYS: z.coerce.number().int().min(1).max(365).default(30)
});

export type ServerEnv = z.infer<typeof envSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): ServerEnv {
	// Treat empty strings as unset so `DATABASE_URL= npm start` means "embedded".
	const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
	const parsed = envSchema.safeParse(cleaned);
	if (!parsed.success) {
		const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
		throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
	}
	return parsed.data;
}
