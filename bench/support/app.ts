/**
 * What the benches that drive the production server share: a fresh database
 * (PGlite folder or a PostgreSQL database, migrated with the real migrations),
 * the server (`node src/server.js`) on a free loopback port, and the report
 * helpers.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { openPGlite } from '../../src/lib/server/db/adapter.ts';
import { createDb, type Db } from '../../src/lib/server/db/client.ts';
import { PrismaClient, type Prisma } from '../../src/lib/server/db/generated/client.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export type Kind = 'pglite' | 'postgres';
export const DEFAULT_PG_URL = 'postgresql://root@127.0.0.1:5432/postgres';

export function log(message: string) {
	console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

export function requireBuild() {
	if (!fs.existsSync(path.join(ROOT, 'build/handler.js'))) {
		throw new Error('No production build: run `npm run build` first.');
	}
}

/** `--db pglite|postgres|both` as the list of kinds to bench. */
export function databaseKinds(option: string): Kind[] {
	const kinds = option === 'both' ? ['pglite', 'postgres'] : [option];
	for (const kind of kinds) {
		if (kind !== 'pglite' && kind !== 'postgres')
			throw new Error(`--db ${kind}: pglite|postgres|both`);
	}
	return kinds as Kind[];
}

// pglite-prisma-adapter is built against another copy of driver-adapter-utils; same interface.
type AdapterFactory = NonNullable<Prisma.PrismaClientOptions['adapter']>;

export type BenchDatabase = {
	kind: Kind;
	/** Environment for the server. */
	env: { DATABASE_URL: string; PGLITE_DIR: string };
	/** Runs SQL text (several statements) on the database, the server stopped. */
	exec: (sql: string) => Promise<void>;
	/** The bench's own handle; close it before the server opens a PGlite folder. */
	open: () => Promise<{ db: Db; close: () => Promise<void> }>;
	cleanup: () => Promise<void>;
};

/** A fresh database of `kind`, migrated with `prisma migrate deploy`. */
export async function benchDatabase(
	kind: Kind,
	options: { pgUrl?: string; keep?: boolean } = {}
): Promise<BenchDatabase> {
	let target: BenchDatabase;
	if (kind === 'pglite') {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-bench-pglite-'));
		target = {
			kind,
			env: { DATABASE_URL: '', PGLITE_DIR: dir },
			exec: async (sql) => {
				const pglite = await openPGlite(dir);
				try {
					await pglite.exec(sql);
				} finally {
					await pglite.close();
				}
			},
			open: async () => {
				const pglite = await openPGlite(dir);
				// Our own PGlite handle: the adapter's dispose() leaves the instance open,
				// and the server must find the folder free.
				const db: Db = new PrismaClient({
					adapter: new PrismaPGlite(pglite) as unknown as AdapterFactory
				});
				return {
					db,
					close: async () => {
						await db.$disconnect();
						await pglite.close();
					}
				};
			},
			cleanup: async () => {
				if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
				else log(`kept ${dir}`);
			}
		};
	} else {
		const admin = new pg.Client({ connectionString: options.pgUrl ?? DEFAULT_PG_URL });
		await admin.connect();
		const name = `tc_bench_${process.pid}_${Date.now()}`;
		await admin.query(`CREATE DATABASE ${name}`);
		const url = new URL(options.pgUrl ?? DEFAULT_PG_URL);
		url.pathname = `/${name}`;
		const env = { DATABASE_URL: url.toString(), PGLITE_DIR: '' };
		target = {
			kind,
			env,
			exec: async (sql) => {
				const client = new pg.Client({ connectionString: env.DATABASE_URL });
				await client.connect();
				try {
					await client.query(sql);
				} finally {
					await client.end();
				}
			},
			open: async () => {
				const db = await createDb(env);
				return { db, close: () => db.$disconnect() };
			},
			cleanup: async () => {
				if (!options.keep) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
				else log(`kept database ${name}`);
				await admin.end();
			}
		};
	}
	execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
		cwd: ROOT,
		env: { ...process.env, ...target.env },
		stdio: 'pipe'
	});
	return target;
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const probe = net.createServer();
		probe.once('error', reject);
		probe.listen(0, '127.0.0.1', () => {
			const { port } = probe.address() as net.AddressInfo;
			probe.close(() => resolve(port));
		});
	});
}

export type RunningServer = {
	port: number;
	url: string;
	child: ChildProcess;
	output: () => string;
};

/**
 * The production server on a free loopback port, with the in-process
 * socket.io adapter and no mail; answers once `/` does. `cpuProfileDir`: a V8 CPU profile
 * of the server, written when it exits.
 */
export async function startServer(
	env: NodeJS.ProcessEnv,
	options: { cpuProfileDir?: string } = {}
): Promise<RunningServer> {
	const port = await freePort();
	const url = `http://127.0.0.1:${port}`;
	const serverEnv: NodeJS.ProcessEnv = {
		...process.env,
		...env,
		PORT: String(port),
		HOST: '127.0.0.1',
		ORIGIN: url
	};
	// The embedded defaults: in-process socket.io adapter, no mail.
	delete serverEnv.REDIS_URL;
	delete serverEnv.SMTP_URL;
	const profile = options.cpuProfileDir
		? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.cpuProfileDir)}`]
		: [];
	const child = spawn(process.execPath, [...profile, 'src/server.js'], {
		cwd: ROOT,
		env: serverEnv,
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	child.stdout!.on('data', (d) => (output += d));
	child.stderr!.on('data', (d) => (output += d));
	const deadline = Date.now() + 60_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
		try {
			if ((await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) })).ok) break;
		} catch {
			// Not listening yet.
		}
		if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
		await sleep(200);
	}
	return { port, url, child, output: () => output };
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stopServer(child: ChildProcess) {
	if (child.exitCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	child.kill('SIGTERM');
	const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
	await exited;
	clearTimeout(timer);
}

export function percentile(sorted: number[], p: number) {
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Rows as aligned columns. */
export function table(data: string[][]) {
	const widths = data[0]!.map((_, i) => Math.max(...data.map((row) => (row[i] ?? '').length)));
	return data.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}
