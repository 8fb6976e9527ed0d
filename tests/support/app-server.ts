import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { copyPgliteTemplate } from './database.ts';

/**
 * Runs the production build (src/server.js over build/) as its own process on a
 * free port, with its own copy of the seeded demo database, as users get it.
 */
export type AppServer = {
	url: string;
	process: ChildProcess;
	/** What the server has printed so far (stdout and stderr). */
	output: () => string;
	stop: () => Promise<void>;
};

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

/**
 * `env` overrides the defaults (PGLITE_DIR included; undefined removes one); a fixed `port` lets a test
 * stop the server and start it again where its clients expect it.
 */
export async function startAppServer(
	env: NodeJS.ProcessEnv = {},
	port?: number
): Promise<AppServer> {
	if (!fs.existsSync(path.resolve('build/handler.js'))) {
		throw new Error('No production build: run `npm run build` before the browser tests.');
	}
	const listenPort = port ?? (await freePort());
	const merged: NodeJS.ProcessEnv = {
		...process.env,
		DATABASE_URL: '',
		PGLITE_DIR: copyPgliteTemplate(true),
		PORT: String(listenPort),
		HOST: '127.0.0.1',
		ORIGIN: `http://127.0.0.1:${listenPort}`,
		...env
	};
	// Servers on one database are one deployment and share Redis keys and
	// channels; other test servers on the same Redis keep apart (a sign-in
	// lock-out left by one run must not lock the next).
	merged.REDIS_PREFIX ??=
		'test:' +
		createHash('sha256')
			.update(merged.DATABASE_URL || merged.PGLITE_DIR || '')
			.digest('hex')
			.slice(0, 16);
	// A variable given as undefined is left out altogether (ORIGIN, say).
	for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
	const child = spawn(process.execPath, ['src/server.js'], {
		env: merged,
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	child.stdout?.on('data', (d) => (output += d));
	child.stderr?.on('data', (d) => (output += d));
	const url = `http://127.0.0.1:${listenPort}`;
	const deadline = Date.now() + 60_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`App server exited early:\n${output}`);
		try {
			const response = await fetch(`${url}/`);
			if (response.ok) break;
		} catch {
			// Not listening yet.
		}
		if (Date.now() > deadline) throw new Error(`App server did not start:\n${output}`);
		await new Promise((r) => setTimeout(r, 200));
	}
	return {
		url,
		process: child,
		output: () => output,
		stop: () =>
			new Promise((resolve) => {
				if (child.exitCode !== null) return resolve();
				child.once('exit', () => resolve());
				child.kill('SIGTERM');
			})
	};
}
