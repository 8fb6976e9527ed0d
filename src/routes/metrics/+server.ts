import { error } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import { metricsAuthorized } from '$lib/server/metrics.ts';
import { platform } from '$lib/server/platform.ts';

/** Prometheus scrape endpoint: only with METRICS_TOKEN set, and only for its bearer. */
export const GET: RequestHandler = async ({ request }) => {
	const { config, metrics } = await platform();
	const token = config.env.METRICS_TOKEN;
	if (!token) error(404, 'Not found');
	if (!metricsAuthorized(request.headers.get('authorization'), token)) {
		return new Response('Unauthorized\n', {
			status: 401,
			headers: { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' }
		});
	}
	const { body, contentType } = await metrics.scrape();
	return new Response(body, {
		headers: { 'content-type': contentType, 'cache-control': 'no-store' }
	});
};
