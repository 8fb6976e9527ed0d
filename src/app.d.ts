import type { EarlyStart } from '$lib/media/early-start.ts';
import type { SessionUser } from '$lib/server/auth/session.ts';

declare global {
	namespace App {
		interface Locals {
			user: SessionUser | null;
			sessionId: string | null;
			/** 关怀模式 for this request (see $lib/server/care-mode.ts). */
			careMode: boolean;
			/** Set by the watch page: its HTML starts the live player early ($lib/server/early-start.ts). */
			earlyStart?: EarlyStart;
		}
		interface Error {
			message: string;
		}
	}
}

export {};
