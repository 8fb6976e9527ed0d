import type { Db } from './db/client.ts';
import type { InstanceReport } from './instances.ts';
import { recordingLeaseName } from './recordings/lifecycle.ts';

/** A live class as the operations page shows it: where its media runs, who records it. */
export type LiveClassPlacement = {
	id: string;
	title: string;
	startsAt: Date;
	/** The answering processes with a media room for the class. */
	media: { instanceId: string; publishers: number; viewers: number; consumers: number }[];
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
	const leases = await db.lease.findMany({
		where: { name: { in: classes.map((c) => recordingLeaseName(c.id)) } }
	});
	const holders = new Map(leases.map((lease) => [lease.name, lease.holder]));
	const answering = instances.filter((instance) => instance.state === 'up');
	return classes.map((cls) => ({
		...cls,
		media: answering.flatMap((instance) =>
			instance.load.classes
				.filter((room) => room.classId === cls.id)
				.map(({ publishers, viewers, consumers }) => ({
					instanceId: instance.id,
					publishers,
					viewers,
					consumers
				}))
		),
		recordedBy: holders.get(recordingLeaseName(cls.id)) ?? null
	}));
}
