import { EventEmitter } from 'node:events';
import path from 'node:path';
import { INTERPRETER_SOURCE, type ClassRoom, type ProducerEvent } from '../class-room.js';
import type { MediaLogger } from '../logger.js';
import { INTERPRETER_DIR } from './interpreter.js';
import type { PortAllocator } from './ports.js';
import { ClassRecorder, pickInterpreter } from './recorder.js';

export interface ClassRecordingOptions {
	recordingId: string;
	/** The recording's folder (absolute). */
	dir: string;
	/** Continue the recording already in `dir` (its process restarted or was replaced). */
	resume: boolean;
}

/** What the app's recording lifecycle hears of a class's recording. */
export interface ClassRecordingEvents {
	/** The playlists list a first segment: live rewind and HLS viewers can find the stream. */
	playlist: [];
	/** The class's picture stopped being recorded, by stop() or because the room closed. */
	stopped: [{ endedAt: number | null }];
}

/** What stopping a recording reports: when its picture ended. */
export type RecordingStopped = { endedAt: number | null };

/**
 * The recording of one class as the media side runs it: the class's picture
 * and sound, and the sign-language interpreter's camera from its first
 * appearance on (in `interpreter/` of the same folder). It is the unit the
 * app starts and stops, in this process or on a media server.
 */
export class ClassRecording extends EventEmitter<ClassRecordingEvents> {
	readonly recordingId: string;
	readonly startedAt: number;
	readonly #main: ClassRecorder;
	#interpreter: Promise<ClassRecorder | null> | null = null;
	/** No interpreter recorder starts once the recording is ending. */
	#ending = false;

	private constructor(main: ClassRecorder, recordingId: string) {
		super();
		this.#main = main;
		this.recordingId = recordingId;
		this.startedAt = main.manifest.startedAt;
		const listed = ({ segments }: { segments: number }) => {
			if (segments === 0) return;
			main.off('playlist', listed);
			this.emit('playlist');
		};
		main.on('playlist', listed);
		main.once('stopped', (manifest) => {
			this.#ending = true;
			this.emit('stopped', { endedAt: manifest.endedAt });
		});
	}

	static async start(
		room: ClassRoom,
		options: ClassRecordingOptions & { ports: PortAllocator; logger: MediaLogger }
	): Promise<ClassRecording> {
		const { recordingId, dir, resume, ports, logger } = options;
		const main = await ClassRecorder.start(room, { recordingId, dir, ports, logger, resume });
		const recording = new ClassRecording(main, recordingId);
		recording.#followInterpreter(room, options);
		return recording;
	}

	/** Stops both recorders; the class's picture's end is what the replay ends at. */
	async stop(): Promise<RecordingStopped> {
		this.#ending = true;
		const [manifest] = await Promise.all([
			this.#main.stop(),
			this.#interpreter?.then((r) => r?.stop())
		]);
		return { endedAt: manifest.endedAt };
	}

	#followInterpreter(
		room: ClassRoom,
		options: ClassRecordingOptions & { ports: PortAllocator; logger: MediaLogger }
	): void {
		const start = () => {
			if (this.#interpreter || this.#ending || room.closed) return;
			room.off('producer', onProducer);
			this.#interpreter = ClassRecorder.start(room, {
				recordingId: `${this.recordingId}:interpreter`,
				dir: path.join(options.dir, INTERPRETER_DIR),
				ports: options.ports,
				logger: options.logger,
				hls: false,
				pick: pickInterpreter,
				resume: options.resume
			}).catch((error: unknown) => {
				options.logger.error('could not record the interpreter', { error: String(error) });
				return null;
			});
		};
		const onProducer = (e: ProducerEvent) => {
			if (e.type === 'added' && e.producer.appData.source === INTERPRETER_SOURCE) start();
		};
		room.on('producer', onProducer);
		room.once('closed', () => room.off('producer', onProducer));
		if (room.listProducers().some((p) => p.appData.source === INTERPRETER_SOURCE)) start();
	}
}
