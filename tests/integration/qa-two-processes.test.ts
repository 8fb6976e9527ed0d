import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QaClient } from '../../src/lib/qa/client.ts';
import { startAppServer, type AppServer } from '../support/app-server.ts';
import { privateServerDatabase, type PrivateDatabase } from '../support/database.ts';
import { ACCOUNTS, findClassId, loginCookie } from '../support/live.ts';
import { connect, waitFor } from './qa-support.ts';

/**
 * Scale-out as deployed: two app processes (production build) on one server
 * PostgreSQL and one Redis. A question asked through one process reaches a
 * viewer connected to the other. Runs in the pass with DATABASE_URL and REDIS_URL.
 */
describe.runIf(process.env.REDIS_URL && process.env.DATABASE_URL)(
	'live Q&A across two app processes',
	() => {
		const apps: AppServer[] = [];
		const clients: QaClient[] = [];
		let database: PrivateDatabase | undefined;

		beforeAll(async () => {
			database = await privateServerDatabase({ seed: true });
			const shared = { DATABASE_URL: database.url, REDIS_URL: process.env.REDIS_URL };
			apps.push(...(await Promise.all([startAppServer(shared), startAppServer(shared)])));
		});

		afterAll(async () => {
			for (const client of clients) client.close();
			await Promise.all(apps.map((app) => app.stop()));
			await database?.drop();
		});

		it('a question asked on one process reaches a viewer on the other', async () => {
			const [one, two] = apps as [AppServer, AppServer];
			const classId = await findClassId(one.url);
			const asker = connect(one.url, classId, await loginCookie(one.url, ACCOUNTS.taxpayer1));
			const viewer = connect(two.url, classId, await loginCookie(two.url, ACCOUNTS.taxpayer2));
			clients.push(asker, viewer);
			await Promise.all([asker.ready(), viewer.ready()]);

			expect((await asker.ask('两个进程之间能看到这个问题吗？')).ok).toBe(true);
			const seen = await waitFor(viewer, (qs) =>
				qs.find((q) => q.text === '两个进程之间能看到这个问题吗？')
			);

			expect((await viewer.vote(seen.id)).ok).toBe(true);
			await waitFor(asker, (qs) => qs.find((q) => q.id === seen.id && q.voteCount === 1));
		});
	}
);
