import type { Db } from './db/client.ts';
import type { InstanceReport } from './instances.ts';
import { recordingLeaseName, UNFINISHED_RECORDING } from './recordings/lifecycle.ts';

/** A live class as the operations page shows it: where its media runs, who records it. */
export type LiveClassPlacement = {
	id: string;
	title: string;
	startsAt: Date;
	/**
	 * Where its media room is: the media server the answering processes relay
	 * to (once, however many report it), or the process running its own.
	 */
	media: {
		placedOn: string;
		mediaServer: boolean;
		publishers: number;
		viewers: number;
		consumers: number;
	}[];
	/** The process holding its recording lease, if any. */
	recordedBy: string | null;
};

/** Every live class, placed on the processes that report its media and its recording. */
export async function liveClassPlacements(
	db: Db,
	instances: InstanceReport[]
): Promise<LiveClassPlacement[]> {
	const classes = await db.policyClass.findMany({
		where: { status: 'LIVE' },
		select: { id: true, title: true, startsAt: true },
		orderBy: { startsAt: 'asc' }
	});
	const holders = await recordingHolders(
		db,
		classes.map((c) => c.id)
	);
	const answering = instances.filter((instance) => instance.state === 'up');
	return classes.map((cls) => {
		const media = new Map<string, LiveClassPlacement['media'][number]>();
		for (const instance of answering) {
			const placedOn = instance.load.mediaServer ?? instance.id;
			const room = instance.load.classes.find((r) => r.classId === cls.id);
			if (!room || media.has(placedOn)) continue;
			const { publishers, viewers, consumers } = room;
			const mediaServer = instance.load.mediaServer !== null;
			media.set(placedOn, { placedOn, mediaServer, publishers, viewers, consumers });
		}
		return { ...cls, media: [...media.values()], recordedBy: holders.get(cls.id) ?? null };
	});
}

/** A recording of a class no longer live whose work is not done, and who does it. */
export type UnfinishedRecording = {
	id: string;
	classId: string;
	title: string;
	/** RECORDING: left by a process that stopped; PROCESSING: replay being made; READY: its MP4. */
	status: 'RECORDING' | 'PROCESSING' | 'READY';
	progress: number;
	/** The process holding the class's recording lease; none until a process takes it. */
	finishedBy: string | null;
};

/** Recordings being finished after their class, oldest first (live classes' are in placements). */
export async function unfinishedRecordings(db: Db): Promise<UnfinishedRecording[]> {
	const recordings = await db.recording.findMany({
		where: { ...UNFINISHED_RECORDING, policyClass: { status: { not: 'LIVE' } } },
		select: {
			id: true,
			status: true,
			progress: true,
			policyClass: { select: { id: true, title: true } }
		},
		orderBy: { startedAt: 'asc' },
		take: 100
	});
	const holders = await recordingHolders(
		db,
		recordings.map((r) => r.policyClass.id)
	);
	return recordings.map(({ id, status, progress, policyClass }) => ({
		id,
		classId: policyClass.id,
		title: policyClass.title,
		status: status as UnfinishedRecording['status'],
		progress,
		finishedBy: holders.get(policyClass.id) ?? null
	}));
}

/** Which process holds each class's recording lease, by class. */
async function recordingHolders(db: Db, classIds: string[]): Promise<Map<string, string>> {
	const names = new Map(classIds.map((id) => [recordingLeaseName(id), id]));
	const leases = await db.lease.findMany({ where: { name: { in: [...names.keys()] } } });
	return new Map(leases.map((lease) => [names.get(lease.name)!, lease.holder]));
}
