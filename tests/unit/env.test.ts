import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/lib/server/env.ts';

describe('server configuration', () => {
	it('runs its own media workers unless a media server is named', () => {
		expect(readEnv({}).MEDIA_SERVER_URL).toBeUndefined();
		const remote = readEnv({
			MEDIA_SERVER_URL: 'http://10.0.0.5:4500',
			MEDIA_CONTROL_SECRET: 'a-secret-of-sixteen+'
		});
		expect(remote.MEDIA_SERVER_URL).toBe('http://10.0.0.5:4500');
	});

	it('names the variable that is wrong or missing for a media server', () => {
		expect(() => readEnv({ MEDIA_SERVER_URL: 'http://10.0.0.5:4500' })).toThrow(
			'MEDIA_CONTROL_SECRET: MEDIA_CONTROL_SECRET is required with MEDIA_SERVER_URL'
		);
		expect(() =>
			readEnv({ MEDIA_SERVER_URL: 'http://10.0.0.5:4500', MEDIA_CONTROL_SECRET: 'short' })
		).toThrow('MEDIA_CONTROL_SECRET must be at least 16 characters');
		expect(() =>
			readEnv({ MEDIA_SERVER_URL: '10.0.0.5', MEDIA_CONTROL_SECRET: 'a-secret-of-sixteen+' })
		).toThrow('MEDIA_SERVER_URL must be a URL');
	});
});
