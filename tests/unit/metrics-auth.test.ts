import { expect, test } from 'vitest';
import { metricsAuthorized } from '../../src/lib/server/metrics.ts';

const TOKEN = 'a-metrics-token-of-some-length';

test('the metrics token is taken from a Bearer header only, whole', () => {
	expect(metricsAuthorized(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
	expect(metricsAuthorized(null, TOKEN)).toBe(false);
	expect(metricsAuthorized(TOKEN, TOKEN)).toBe(false);
	expect(metricsAuthorized(`Basic ${TOKEN}`, TOKEN)).toBe(false);
	expect(metricsAuthorized(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
	expect(metricsAuthorized(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
	expect(metricsAuthorized('Bearer ', TOKEN)).toBe(false);
});
