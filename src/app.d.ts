import type { SessionUser } from '$lib/server/auth/session.ts';

declare global {
	namespace App {
		interface Locals {
			user: SessionUser | null;
			sessionId: string | null;
			/** 关怀模式 for this request (see $lib/server/care-mode.ts). */
			careMode: boolean;
		}
		interface Error {
			message: string;
		}
	}
}

export {};
