import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({ out: 'build' }),
		typescript: {
			// Type-check the media server and benchmarks with the app's strict settings.
			config: (tsconfig) => {
				tsconfig.include.push('../media-server/**/*.ts', '../bench/**/*.ts', '../prisma/**/*.ts');
			}
		}
	}
};

export default config;
