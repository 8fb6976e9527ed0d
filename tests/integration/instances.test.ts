import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaServer, type MediaServer } from '../../media-server/src/index.ts';
import { Instances } from '../../src/lib/server/instances.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * Process reports on the real database and a real media server: what the
 * operations page reads of each process, and when a process counts as not
 * answering (by the database's clock).
 */
describe('app process reports', () => {
	let t: TestDatabase;
	let media: MediaServer;

	beforeAll(async () => {
		t = await openTestDatabase();
		media = await createMediaServer({
			numWorkers: 1,
			listenIp: '127.0.0.1',
			rtcMinPort: 48500,
			rtcMaxPort: 48599
		});
	});

	afterAll(async () => {
		await media?.close();
		await t?.close();
	});

	const report = async (instances: Instances, id: string) =>
		(await instances.list()).find((r) => r.id === id);

	it('reports its media rooms and workers, then that it stopped', async () => {
		const id = `test-${randomUUID()}`;
		const instances = new Instances(t.db, id, { media: async () => media, connections: () => 3 });
		await instances.start();
		const first = await report(instances, id);
		expect(first).toMatchObject({ state: 'up', pid: process.pid });
		expect(first!.load).toMatchObject({ mediaUp: true, connections: 3, classes: [] });
		// A worker's CPU use is known from its second report on.
		expect(first!.load.workers).toEqual([expect.objectContaining({ slot: 0, cpuPercent: null })]);

		const classId = randomUUID();
		const room = await media.getOrCreateRoom(classId);
		room.join('viewer-1', 'viewer');
		room.join('viewer-2', 'viewer');
		await instances.beat();
		const second = await report(instances, id);
		expect(second!.load.classes).toEqual([{ classId, publishers: 0, viewers: 2, consumers: 0 }]);
		expect(second!.load.workers[0]!.cpuPercent).toBeGreaterThanOrEqual(0);
		expect(second!.seenAt.getTime()).toBeGreaterThanOrEqual(first!.seenAt.getTime());

		await instances.stop();
		expect((await report(instances, id))?.state).toBe('stopped');
	});

	it('shows a process that missed its beats as not answering, and forgets it after a day', async () => {
		const id = `test-${randomUUID()}`;
		const down = new Instances(t.db, id, {
			media: () => Promise.reject(new Error('the media server did not start')),
			connections: () => 0
		});
		await down.beat();
		expect((await report(down, id))?.load).toMatchObject({ mediaUp: false, workers: [] });

		const age = (interval: string) =>
			t.db
				.$executeRaw`UPDATE app_instance SET seen_at = now() - ${interval}::interval WHERE id = ${id}`;
		await age('31 seconds');
		expect((await report(down, id))?.state).toBe('silent');
		await age('25 hours');
		const other = new Instances(t.db, `test-${randomUUID()}`, {
			media: async () => media,
			connections: () => 0
		});
		await other.beat();
		expect(await report(other, id)).toBeUndefined();
	});
});
