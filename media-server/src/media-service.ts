import type { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { ClassRoom, ClassRoomEvents, RoomLoad } from './class-room.js';
import type { MediaServerConfig } from './config.js';
import type {
	ClassRecording,
	ClassRecordingEvents,
	ClassRecordingOptions
} from './recorder/class-recording.js';
import type { WorkerStats } from './worker-pool.js';

/** A media server's load: its workers, its rooms' counts added up, and each room's. */
export interface MediaLoad extends RoomLoad {
	workers: WorkerStats[];
	rooms: number;
	classes: ({ classId: string } & RoomLoad)[];
}

/**
 * A class's room as the app's signaling and recording lifecycle use it: the
 * ClassRoom itself in the embedded setup, or its stand-in for a room on a
 * media server of its own (src/lib/server/media/remote-media.ts).
 */
export type MediaRoom = Pick<
	ClassRoom,
	'classId' | 'closed' | 'join' | 'leave' | 'viewerCount' | 'listProducers' | 'request' | 'getStats'
> &
	EventEmitter<ClassRoomEvents>;

/** A class's recording as the app's recording lifecycle controls it. */
export type MediaRecording = Pick<ClassRecording, 'recordingId' | 'startedAt' | 'stop'> &
	EventEmitter<ClassRecordingEvents>;

/**
 * What the app asks of the media side, wherever it runs: MediaServer in
 * this process, or a media server reached over the control protocol.
 */
export interface MediaService {
	/** The media server's name when it runs as a service of its own; null in the app's process. */
	readonly serverId: string | null;
	readonly config: MediaServerConfig;
	/** What every room's routers offer (they share one codec list). */
	readonly routerRtpCapabilities: types.RtpCapabilities;
	getOrCreateRoom(classId: string): Promise<MediaRoom>;
	/** Runs `finish` before any room closes through closeRoom(). */
	beforeRoomCloses(finish: (classId: string) => Promise<unknown>): void;
	/** Closes the room after the beforeRoomCloses hooks, running `beforeClosing` between the two. */
	closeRoom(classId: string, beforeClosing?: () => void): Promise<void>;
	getLoad(): Promise<MediaLoad>;
	/**
	 * Records the class's room into `dir`, relative to the recordings folder
	 * the media side writes to. One recording id runs once: asking again
	 * returns the recording already running (a process taking over a class).
	 */
	record(classId: string, options: ClassRecordingOptions): Promise<MediaRecording>;
	close(): Promise<void>;
}
