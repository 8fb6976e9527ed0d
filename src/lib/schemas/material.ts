import { z } from '../zod.ts';

export const materialIdSchema = z.object({ materialId: z.string().uuid('error_generic') });

export const materialVisibilitySchema = materialIdSchema.extend({
	visibility: z.enum(['REGISTRANTS', 'PUBLIC'], { message: 'error_generic' })
});
