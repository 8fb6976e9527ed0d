import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export type MediaServerProcess = {
	/** The control endpoint, for MEDIA_SERVER_URL. */
	url: string;
	process: ChildProcess;
	output: () => string;
	stop: () => Promise<void>;
};

/**
 * `npm run media-server` as its own process (one mediasoup worker, loopback
 * media), on a control port of its choosing; resolves once it listens.
 */
export async function startMediaServer(env: NodeJS.ProcessEnv): Promise<MediaServerProcess> {
	const child = spawn(process.execPath, ['--import', 'tsx', 'media-server/src/main.ts'], {
		env: {
			...process.env,
			MEDIA_CONTROL_PORT: '0',
			MEDIA_LISTEN_IP: '127.0.0.1',
			MEDIA_WORKERS: '1',
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	child.stderr!.on('data', (d) => (output += d));
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const url = await new Promise<string>((resolve, reject) => {
		readline.createInterface({ input: child.stdout! }).on('line', (line) => {
			output += `${line}\n`;
			const listening = /control listening on (\S+)$/.exec(line);
			if (listening) resolve(`http://${listening[1]}`);
		});
		void exited.then(() => reject(new Error(`media server exited early:\n${output}`)));
	});
	return {
		url,
		process: child,
		output: () => output,
		stop: async () => {
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			await exited;
		}
	};
}
