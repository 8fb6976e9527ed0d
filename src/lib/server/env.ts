import { z } from 'zod';
import {
	mediaServerConfigFromEnv,
	type MediaServerConfig
} from '../../../media-server/src/config.ts';
import {
	recordingConfigFromEnv,
	type RecordingConfig
} from '../../../media-server/src/recorder/index.ts';

/** Server configuration, read once from the environment and validated. */
const envFields = z.object({
	DATABASE_URL: z
		.string()
		.regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
		.optional(),
	PGLITE_DIR: z.string().min(1).default('./data/pglite'),
	REDIS_URL: z
		.string()
		.regex(/^rediss?:\/\//, 'REDIS_URL must be a redis:// URL')
		.optional(),
	/** Starts every Redis key and channel, so deployments sharing one Redis keep apart. */
	REDIS_PREFIX: z
		.string()
		.regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'REDIS_PREFIX may hold letters, digits and _ . : - only')
		.default('taxpayer-classroom'),
	RECORDINGS_DIR: z.string().min(1).default('./data/recordings'),
	SESSION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
	/** Wrong passwords an account may send before it waits. */
	LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
	/** The first wait, and the window the failures are counted in; each lock-out doubles it. */
	LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
	/** Public URL of the site, for links in emails (adapter-node reads it too). */
	ORIGIN: z.url('ORIGIN must be a URL such as https://xuetang.example.gov.cn').optional(),
	PORT: z.coerce.number().int().min(1).max(65535).default(3000),
	/**
	 * Names this process as the holder of its leases (src/lib/server/leases.ts):
	 * stable across its restarts, distinct from every other process on the same
	 * database. Unset: the host name and PORT.
	 */
	INSTANCE_ID: z
		.string()
		.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'INSTANCE_ID may hold letters, digits and _ . : - only')
		.optional(),
	/**
	 * How long a lease outlives its holder's last renewal: how soon another
	 * process takes over the recording work of one that died.
	 */
	LEASE_SECONDS: z.coerce.number().int().min(3).max(600).default(30),
	/** Unset: emails are queued and kept, not sent. */
	SMTP_URL: z
		.string()
		.regex(/^smtps?:\/\//, 'SMTP_URL must be an smtp:// or smtps:// URL')
		.optional(),
	MAIL_FROM: z.string().min(3).default('纳税人学堂 <noreply@localhost>'),
	/**
	 * Bearer token for GET /metrics (Prometheus). Unset: the endpoint does not
	 * exist, so nothing about the platform's load is public by default.
	 */
	METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
	/**
	 * A media server running as its own service (`npm run media-server`),
	 * e.g. http://10.0.0.5:4500. Unset: this process runs its own mediasoup
	 * workers, as one box does.
	 */
	MEDIA_SERVER_URL: z.url('MEDIA_SERVER_URL must be a URL such as http://10.0.0.5:4500').optional(),
	/** The secret the media server expects on its control connection. */
	MEDIA_CONTROL_SECRET: z
		.string()
		.min(16, 'MEDIA_CONTROL_SECRET must be at least 16 characters')
		.optional(),
	MATERIALS_DIR: z.string().min(1).default('./data/materials'),
	MATERIALS_MAX_MB: z.coerce
		.number()
		.positive('MATERIALS_MAX_MB must be a positive number of megabytes')
		.max(2000)
		.default(50)
});

const envSchema = envFields.refine((env) => !env.MEDIA_SERVER_URL || env.MEDIA_CONTROL_SECRET, {
	message: 'MEDIA_CONTROL_SECRET is required with MEDIA_SERVER_URL',
	path: ['MEDIA_CONTROL_SECRET']
});

export type ServerEnv = z.infer<typeof envSchema>;

/** Treat empty strings as unset, so `DATABASE_URL= npm start` means "embedded". */
function withoutEmpty(source: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
	return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
}

export function readEnv(source: NodeJS.ProcessEnv = process.env): ServerEnv {
	const parsed = envSchema.safeParse(withoutEmpty(source));
	if (!parsed.success) {
		const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
		throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
	}
	return parsed.data;
}

export type ServerConfig = { env: ServerEnv; media: MediaServerConfig; recording: RecordingConfig };

/**
 * Everything the server is configured with, validated at start: a bad value
 * stops the server with a message naming the variable, before it serves.
 */
export function readServerConfig(source: NodeJS.ProcessEnv = process.env): ServerConfig {
	const cleaned = withoutEmpty(source);
	return {
		env: readEnv(cleaned),
		media: mediaServerConfigFromEnv(cleaned),
		recording: recordingConfigFromEnv(cleaned)
	};
}
