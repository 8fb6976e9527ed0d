import { sveltekit } from '@sveltejs/kit/vite';
import { paraglideVitePlugin } from '@inlang/paraglide-js';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * In dev there is no server.js, so hand Vite's HTTP server to the app the same way
 * server.js does; hooks.server.ts attaches socket.io to it.
 */
function shareDevHttpServer(): Plugin {
	return {
		name: 'taxpayer-classroom:dev-http-server',
		configureServer(server) {
			// vitest starts Vite without an HTTP server.
			if (server.httpServer) {
				(globalThis as Record<symbol, unknown>)[Symbol.for('taxpayer-classroom.httpServer')] =
					server.httpServer;
			}
		}
	};
}

export default defineConfig({
	plugins: [
		paraglideVitePlugin({
			project: './project.inlang',
			outdir: './src/lib/paraglide',
			strategy: ['cookie', 'baseLocale'],
			outputStructure: 'message-modules'
		}),
		sveltekit(),
		shareDevHttpServer()
	],
	test: {
		include: ['tests/**/*.test.ts'],
		environment: 'node',
		globalSetup: ['tests/global-setup.ts'],
		testTimeout: 60_000,
		hookTimeout: 180_000,
		pool: 'forks',
		// One file at a time: the browser, media and Q&A tests assert on timings
		// (first frame, delivery within a second) that two CPUs shared by two
		// Chromium-plus-server files cannot keep.
		fileParallelism: false
	}
});
