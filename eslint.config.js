import prettier from 'eslint-config-prettier';
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default ts.config(
	{
		ignores: [
			'build/',
			'.svelte-kit/',
			'data/',
			'src/lib/paraglide/',
			'src/lib/server/db/generated/',
			'bench/results/'
		]
	},
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	prettier,
	...svelte.configs.prettier,
	{
		languageOptions: { globals: { ...globals.browser, ...globals.node } },
		rules: {
			'no-undef': 'off',
			// The app is always served from the site root, so plain hrefs are already resolved.
			'svelte/no-navigation-without-resolve': 'off',
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }
			]
		}
	},
	{
		// Code that can reach the browser takes zod from $lib/zod.ts, which keeps
		// it from probing for eval under the Content-Security-Policy.
		files: ['src/**/*.ts', 'src/**/*.svelte'],
		ignores: ['src/lib/server/**', 'src/lib/zod.ts', 'src/**/+page.server.ts', 'src/**/+server.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{ paths: [{ name: 'zod', message: 'Import z from $lib/zod.ts in shared code.' }] }
			]
		}
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
		languageOptions: {
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
				svelteConfig
			}
		}
	}
);
