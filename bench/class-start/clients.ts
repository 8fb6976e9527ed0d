/**
 * Child process of the class-start bench: opens the watch page's two sockets
 * for each viewer (one WebSocket per viewer multiplexing '/media' and '/qa',
 * as the page's socket.io client does), spread evenly over the rush, and
 * times, from each viewer's own start, the media join's answer and the Q&A
 * snapshot. Driven by the parent over IPC.
 */
import { performance } from 'node:perf_hooks';
import { Manager } from 'socket.io-client';

export type RushCommand = {
	url: string;
	classId: string;
	cookies: string[];
	spreadMs: number;
	/** 'app': the platform's events; 'raw': a bare socket.io server's. */
	mode: 'app' | 'raw';
	timeoutMs: number;
};
/** How the media join placed the viewer: in the SFU room, or sent to HLS (the class's WebRTC capacity is reached). */
export type MediaMode = 'webrtc' | 'hls';
export type ViewerTiming = {
	media: number | null;
	mode?: MediaMode;
	qa: number | null;
	error?: string;
};

const managers: Manager[] = [];

async function viewer(command: RushCommand, cookie: string): Promise<ViewerTiming> {
	const started = performance.now();
	const manager = new Manager(command.url, {
		transports: ['websocket'],
		extraHeaders: { cookie },
		reconnection: false,
		timeout: command.timeoutMs
	});
	managers.push(manager);
	const media = manager.socket('/media');
	const qa = manager.socket('/qa');
	const since = () => performance.now() - started;
	let mode: MediaMode | undefined;
	const join = async (
		socket: typeof media,
		event: string,
		payload: unknown,
		answered: (reply: { ok: boolean; error?: string }) => boolean = (reply) => reply.ok
	): Promise<number> => {
		const reply = (await socket.timeout(command.timeoutMs).emitWithAck(event, payload)) as {
			ok: boolean;
			error?: string;
		};
		if (!answered(reply)) throw new Error(`${event}: ${reply.error}`);
		return since();
	};
	const raw = command.mode === 'raw';
	const [m, q] = await Promise.allSettled([
		join(
			media,
			raw ? 'join' : 'live:join',
			raw ? command.classId : { classId: command.classId, role: 'viewer' },
			// The watch page plays an overflowed viewer over HLS: answered, in the other mode.
			(reply) => {
				mode = reply.ok ? 'webrtc' : reply.error === 'overflow' ? 'hls' : undefined;
				return mode !== undefined;
			}
		),
		join(
			qa,
			raw ? 'join' : 'qa:join',
			raw ? command.classId : { classId: command.classId, lastSeq: null }
		)
	]);
	const error = [m, q].find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
	return {
		media: m.status === 'fulfilled' ? m.value : null,
		...(m.status === 'fulfilled' ? { mode } : {}),
		qa: q.status === 'fulfilled' ? q.value : null,
		...(error ? { error: String(error.reason?.message ?? error.reason) } : {})
	};
}

process.on('message', async (command: RushCommand) => {
	const step = command.spreadMs / command.cookies.length;
	const t0 = performance.now();
	const timings = await Promise.all(
		command.cookies.map(async (cookie, i) => {
			const wait = t0 + i * step - performance.now();
			if (wait > 0) await new Promise((r) => setTimeout(r, wait));
			return viewer(command, cookie);
		})
	);
	for (const m of managers) m.engine.close();
	process.send!(timings, () => process.exit(0));
});
