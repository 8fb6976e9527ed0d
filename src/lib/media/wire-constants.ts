/**
 * Plain values of the media wire protocol (protocol.ts), apart from its zod
 * schemas: browser code that needs only these does not load zod with them.
 */
export const MEDIA_NAMESPACE = '/media';
