import type { ParamMatcher } from '@sveltejs/kit';

// Record ids are UUIDs; anything else is a 404 before a route runs or the
// database sees a malformed id.
export const match: ParamMatcher = (param) =>
	/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(param);
