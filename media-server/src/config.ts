import os from 'node:os';
import { z } from 'zod';

const ip = z.union([z.ipv4(), z.ipv6()]);
const port = z.coerce.number().int().min(1024).max(65535);

export const mediaServerConfigSchema = z
	.object({
		/** Local address the RTC sockets bind to. */
		listenIp: ip.default('0.0.0.0'),
		/**
		 * Address put in ICE candidates. Needed when listenIp is 0.0.0.0 or behind
		 * NAT, because browsers cannot reach an unspecified or private address.
		 */
		announcedIp: z.string().min(1).optional(),
		rtcMinPort: port.default(40000),
		rtcMaxPort: port.default(49999),
		/** One mediasoup worker uses one core, so one per core by default. */
		numWorkers: z.coerce.number().int().min(1).default(os.cpus().length),
		/**
		 * Above this many consumers on a router, new viewers go to a router on
		 * another worker fed through pipeToRouter, so one class can use more
		 * than one core.
		 */
		maxConsumersPerRouter: z.coerce.number().int().min(1).default(500),
		/**
		 * WebRTC viewers per class; more watch over HLS (an H.264 class). Unset,
		 * the SFU's own capacity (consumer limit × workers) is the limit.
		 */
		maxWebRtcViewers: z.coerce.number().int().min(0).optional(),
		/** Starting send estimate for viewers; too low makes the first seconds blurry. */
		initialAvailableOutgoingBitrate: z.coerce.number().int().min(100_000).default(1_000_000),
		/** Cap on what one publisher transport may send us. */
		maxIncomingBitrate: z.coerce.number().int().min(100_000).default(5_000_000),
		workerLogLevel: z.enum(['debug', 'warn', 'error', 'none']).default('warn'),
		/**
		 * What one peer may hold, so no client can exhaust the worker's ports or
		 * memory: a publisher sends camera and screen (with their audio) over a
		 * few transports; a viewer needs one receive transport and one
		 * consumer per producer.
		 */
		maxPublisherTransports: z.coerce.number().int().min(1).default(4),
		maxPublisherProducers: z.coerce.number().int().min(1).default(4),
		maxViewerTransports: z.coerce.number().int().min(1).default(1),
		/** Delay between attempts to spawn a replacement for a dead worker. */
		respawnDelayMs: z.coerce.number().int().min(0).default(1000)
	})
	.refine((c) => c.rtcMaxPort - c.rtcMinPort + 1 >= c.numWorkers, {
		message: 'RTC port range must hold at least one port per worker',
		path: ['rtcMaxPort']
	});

export type MediaServerConfigInput = z.input<typeof mediaServerConfigSchema>;
export type MediaServerConfig = z.output<typeof mediaServerConfigSchema>;

export function parseMediaServerConfig(input: MediaServerConfigInput = {}): MediaServerConfig {
	return mediaServerConfigSchema.parse(input);
}

const envNames = {
	listenIp: 'MEDIA_LISTEN_IP',
	announcedIp: 'MEDIA_ANNOUNCED_IP',
	rtcMinPort: 'MEDIA_RTC_MIN_PORT',
	rtcMaxPort: 'MEDIA_RTC_MAX_PORT',
	numWorkers: 'MEDIA_WORKERS',
	maxConsumersPerRouter: 'MEDIA_MAX_CONSUMERS_PER_ROUTER',
	maxWebRtcViewers: 'MEDIA_MAX_WEBRTC_VIEWERS'
} as const satisfies Partial<Record<keyof MediaServerConfig, string>>;

/**
 * Reads MEDIA_* variables (unset or empty ones keep their defaults). A bad
 * value throws an error that names the variable.
 */
export function mediaServerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MediaServerConfig {
	const input: Record<string, string> = {};
	for (const [key, name] of Object.entries(envNames)) {
		const value = env[name];
		if (value) input[key] = value;
	}
	const parsed = mediaServerConfigSchema.safeParse(input);
	if (parsed.success) return parsed.data;
	const problems = parsed.error.issues.map((issue) => {
		const key = String(issue.path[0] ?? '');
		const name = envNames[key as keyof typeof envNames] ?? key;
		return `${name}: ${issue.message}`;
	});
	throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}

/**
 * WebRTC viewers one class may have: MEDIA_MAX_WEBRTC_VIEWERS, and never
 * more than its routers carry (a viewer consumes audio and video).
 */
export function webRtcViewerCapacity(config: MediaServerConfig): number {
	const sfu = Math.floor((config.maxConsumersPerRouter * config.numWorkers) / 2);
	return Math.min(sfu, config.maxWebRtcViewers ?? Infinity);
}

/**
 * Gives each worker its own slice of the port range; a replacement worker
 * reuses the slice of the one it replaces.
 */
export function workerPortRange(
	config: MediaServerConfig,
	slot: number
): { rtcMinPort: number; rtcMaxPort: number } {
	const size = Math.floor((config.rtcMaxPort - config.rtcMinPort + 1) / config.numWorkers);
	const rtcMinPort = config.rtcMinPort + slot * size;
	const last = slot === config.numWorkers - 1;
	return { rtcMinPort, rtcMaxPort: last ? config.rtcMaxPort : rtcMinPort + size - 1 };
}
