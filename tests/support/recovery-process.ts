/**
 * One app process's start-up as far as recording goes, for the lease test:
 * the platform (with its media server), lease renewal, and the recordings
 * lifecycle with its recovery, as hooks.server.ts starts them.
 *
 *   tsx tests/support/recovery-process.ts   (env: the app's, with INSTANCE_ID)
 *
 * stdout lines: JSON events. `recovered` says what its start-up recovery took
 * on; `idle` follows once the recordings it finishes are done. It then runs,
 * renewing its leases and taking over expired ones, until it is killed.
 */
import { startPlatform } from '../../src/lib/server/platform.ts';
import { finalizationIdle, startRecordings } from '../../src/lib/server/recordings/lifecycle.ts';

const say = (event: string, data: Record<string, unknown> = {}) =>
	console.log(JSON.stringify({ event, ...data }));

const p = await startPlatform();
p.leases.start();
const recovery = await startRecordings({
	db: p.db,
	events: p.events,
	media: p.media,
	leases: p.leases
});
say('recovered', recovery);
await finalizationIdle();
say('idle');
setInterval(() => undefined, 60_000);
