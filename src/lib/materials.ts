/**
 * The kinds of class material (课件) the platform takes, shared by the upload
 * form (its `accept` list, the size shown) and the server (which checks the
 * content, not the name).
 */
export const MATERIAL_KINDS = {
	pdf: { mime: 'application/pdf', extensions: ['pdf'] },
	pptx: {
		mime: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
		extensions: ['pptx']
	},
	docx: {
		mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
		extensions: ['docx']
	},
	xlsx: {
		mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
		extensions: ['xlsx']
	},
	png: { mime: 'image/png', extensions: ['png'] },
	jpg: { mime: 'image/jpeg', extensions: ['jpg', 'jpeg'] },
	gif: { mime: 'image/gif', extensions: ['gif'] },
	webp: { mime: 'image/webp', extensions: ['webp'] }
} as const;

export type MaterialKind = keyof typeof MATERIAL_KINDS;

export const MATERIAL_ACCEPT = Object.values(MATERIAL_KINDS)
	.flatMap((k) => k.extensions.map((e) => `.${e}`))
	.join(',');

export function isMaterialKind(kind: string): kind is MaterialKind {
	return Object.hasOwn(MATERIAL_KINDS, kind);
}

/** The extension of a file name, lower case, without the dot ('' when none). */
export function extensionOf(name: string): string {
	const dot = name.lastIndexOf('.');
	return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** Bytes as the upload form and the material list show them: "12.3 MB", "850 KB". */
export function formatBytes(bytes: number): string {
	if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
	return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
