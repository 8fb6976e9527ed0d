import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

/**
 * Prepares databases once per run with the real migrations (`prisma migrate
 * deploy`, exactly what the setup command runs):
 * - a migrated PGlite folder, and a migrated + seeded one, that tests copy;
 * - with DATABASE_URL set, a fresh database on that server, dropped afterwards.
 */
declare module 'vitest' {
	export interface ProvidedContext {
		pgliteTemplate: string;
		pgliteSeededTemplate: string;
		serverDatabaseUrl: string | null;
		workDir: string;
	}
}

function prisma(args: string[], env: NodeJS.ProcessEnv) {
	execFileSync('npx', ['prisma', ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
}

export default async function setup(project: TestProject) {
	const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxpayer-classroom-test-'));
	const template = path.join(workDir, 'pglite-template');
	const seeded = path.join(workDir, 'pglite-seeded');
	const embedded = { DATABASE_URL: '', PGLITE_DIR: template };
	prisma(['migrate', 'deploy'], embedded);
	fs.cpSync(template, seeded, { recursive: true });
	execFileSync('npx', ['tsx', 'prisma/seed.ts'], {
		env: { ...process.env, DATABASE_URL: '', PGLITE_DIR: seeded },
		stdio: 'pipe'
	});

	let serverDatabaseUrl: string | null = null;
	let dropServerDatabase = async () => {};
	if (process.env.DATABASE_URL) {
		const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
		await admin.connect();
		const name = `tc_test_${process.pid}_${Date.now()}`;
		await admin.query(`CREATE DATABASE ${name}`);
		const url = new URL(process.env.DATABASE_URL);
		url.pathname = `/${name}`;
		serverDatabaseUrl = url.toString();
		dropServerDatabase = async () => {
			await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
			await admin.end();
		};
		try {
			prisma(['migrate', 'deploy'], { DATABASE_URL: serverDatabaseUrl });
		} catch (error) {
			await dropServerDatabase();
			throw error;
		}
	}

	project.provide('pgliteTemplate', template);
	project.provide('pgliteSeededTemplate', seeded);
	project.provide('serverDatabaseUrl', serverDatabaseUrl);
	project.provide('workDir', workDir);

	return async () => {
		await dropServerDatabase();
		fs.rmSync(workDir, { recursive: true, force: true });
	};
}
