import { z } from 'zod';

/**
 * zod for code that also runs in the browser. There, the Content-Security-
 * Policy forbids eval, and zod's compiled fast path probes for it with `new
 * Function`, which the browser reports as a violation even though zod falls
 * back. Its interpreter is fast enough for form and socket payloads. The
 * server keeps the compiled path.
 */
if (typeof window !== 'undefined') z.config({ jitless: true });

export { z };
