import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

/** A TypeScript script run as its own process, talking in lines: JSON events out, commands in. */
export type ScriptedProcess = {
	process: ChildProcess;
	/** The first event of this name the process printed, once it has. */
	next: (event: string) => Promise<Record<string, unknown>>;
	send: (line: string) => void;
	exited: Promise<void>;
};

/**
 * Starts `script` (under tsx) with `env`. Lines the process prints that are
 * not JSON events go to `log` (shown when a test fails), tagged with its pid.
 */
export function startScript(
	script: string,
	env: NodeJS.ProcessEnv,
	options: { log: string[]; onEvent?: (event: Record<string, unknown>) => void }
): ScriptedProcess {
	const child = spawn(process.execPath, ['--import', 'tsx', script], {
		env,
		stdio: ['pipe', 'pipe', 'inherit']
	});
	const events: Record<string, unknown>[] = [];
	const waiters: (() => void)[] = [];
	readline.createInterface({ input: child.stdout! }).on('line', (line) => {
		if (!line.startsWith('{')) return void options.log.push(`[${child.pid}] ${line}`);
		const event = JSON.parse(line) as Record<string, unknown>;
		options.onEvent?.(event);
		events.push(event);
		for (const wake of waiters.splice(0)) wake();
	});
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	return {
		process: child,
		next: async (event) => {
			for (;;) {
				const found = events.find((e) => e.event === event);
				if (found) return found;
				if (child.exitCode !== null) throw new Error(`${script} exited before ${event}`);
				await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited]);
			}
		},
		send: (line) => child.stdin!.write(`${line}\n`),
		exited
	};
}
