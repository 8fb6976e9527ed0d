import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { createMigrationAdapter } from './src/lib/server/db/adapter.ts';

// The 6.19 CLI tries to download native engines at start unless these point at
// an existing file. Nothing executes them: the schema engine is WebAssembly.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.resolve('package.json');
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= path.resolve('package.json');

export default defineConfig({
	experimental: { adapter: true },
	engine: 'js',
	schema: 'prisma/schema.prisma',
	migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
	adapter: createMigrationAdapter
});
