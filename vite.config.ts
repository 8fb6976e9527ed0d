import path from 'node:path';
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

/**
 * Names the watch page's early viewer script for the server: its chunk and the
 * chunks it imports (hashed names, known only after the client build), in
 * `_app/early-viewer.json` of the client output. See $lib/server/early-viewer.ts.
 */
function nameEarlyViewerChunk(): Plugin {
	const source = path.resolve('src/lib/media/early-viewer.ts');
	return {
		name: 'taxpayer-classroom:early-viewer-chunk',
		applyToEnvironment: (environment) => environment.name === 'client',
		generateBundle(_options, bundle) {
			const chunks = Object.values(bundle).flatMap((c) => (c.type === 'chunk' ? [c] : []));
			const early = chunks.find((c) => c.facadeModuleId === source);
			if (!early) return this.error(`no chunk for ${source}: is it imported dynamically?`);
			const imports = new Set<string>();
			const visit = (file: string) => {
				for (const imported of chunks.find((c) => c.fileName === file)?.imports ?? []) {
					if (imports.has(imported)) continue;
					imports.add(imported);
					visit(imported);
				}
			};
			visit(early.fileName);
			this.emitFile({
				type: 'asset',
				fileName: '_app/early-viewer.json',
				source: JSON.stringify({ file: early.fileName, imports: [...imports] })
			});
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
		shareDevHttpServer(),
		nameEarlyViewerChunk()
	],
	test: {
		environment: 'node',
		globalSetup: ['tests/global-setup.ts'],
		testTimeout: 60_000,
		hookTimeout: 180_000,
		pool: 'forks',
		projects: [
			{
				// Each file has its own database copy (or its own rows on the server),
				// its own ports and no timing assertions, so files share the CPUs.
				extends: true,
				test: {
					name: 'server',
					include: [
						'tests/unit/**/*.test.ts',
						'tests/integration/**/*.test.ts',
						'tests/media-server/**/*.test.ts'
					],
					sequence: { groupOrder: 0 }
				}
			},
			{
				// One Chromium-plus-server file at a time, after the rest: two of them
				// at once starve each other's media on two cores.
				extends: true,
				test: {
					name: 'browser',
					include: ['tests/browser/**/*.test.ts'],
					fileParallelism: false,
					sequence: { groupOrder: 1 }
				}
			}
		]
	}
});
