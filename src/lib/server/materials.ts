import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileTypeFromFile } from 'file-type';
import { extensionOf, isMaterialKind, MATERIAL_KINDS, type MaterialKind } from '$lib/materials.ts';
import { recordAudit, type AuditEntryInput } from './audit.ts';
import type { Db } from './db/client.ts';
import type { MaterialVisibility } from './db/generated/enums.ts';

/**
 * Class materials (课件) on disk and in the database. A file is accepted by
 * what its bytes are (file-type reads the magic bytes, and the inside of
 * OOXML zips), and its name must agree. It is written beside the store under
 * `.incoming/`, synced, and renamed into place inside the transaction that
 * inserts its row, so a failed upload leaves neither a file nor a row.
 */

export type MaterialsConfig = { dir: string; maxBytes: number };

export type UploadRefusal =
	'material_empty' | 'material_too_large' | 'material_type_refused' | 'material_name_mismatch';

export type UploadOutcome = { ok: true; id: string } | { ok: false; reason: UploadRefusal };

type Actor = AuditEntryInput['actor'];

const INCOMING = '.incoming';
const NAME_LIMIT = 200;

/** The name as shown and offered for download: no folders, no control characters. */
export function cleanFileName(name: string): string {
	const base = name.split(/[\\/]/).pop() ?? '';
	// eslint-disable-next-line no-control-regex
	const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
	if (clean.length <= NAME_LIMIT) return clean;
	const ext = extensionOf(clean);
	return `${clean.slice(0, NAME_LIMIT - ext.length - 1)}.${ext}`;
}

export const materialSelect = {
	id: true,
	classId: true,
	fileName: true,
	kind: true,
	mimeType: true,
	sizeBytes: true,
	visibility: true,
	createdAt: true
} as const;

export type MaterialSummary = {
	id: string;
	classId: string;
	fileName: string;
	kind: string;
	mimeType: string;
	sizeBytes: number;
	visibility: MaterialVisibility;
	createdAt: Date;
};

export class Materials {
	readonly root: string;

	constructor(
		readonly db: Db,
		readonly config: MaterialsConfig
	) {
		this.root = path.resolve(config.dir);
	}

	list(classId: string): Promise<MaterialSummary[]> {
		return this.db.material.findMany({
			where: { classId },
			select: materialSelect,
			orderBy: [{ createdAt: 'asc' }, { id: 'asc' }]
		});
	}

	async get(id: string) {
		return this.db.material.findUnique({
			where: { id },
			select: { ...materialSelect, storedPath: true }
		});
	}

	/** The absolute path of a stored file; never outside the store. */
	fileOf(storedPath: string): string {
		const file = path.resolve(this.root, storedPath);
		if (!file.startsWith(this.root + path.sep)) throw new Error('material path escapes the store');
		return file;
	}

	async upload(actor: Actor, classId: string, file: File): Promise<UploadOutcome> {
		if (file.size === 0) return { ok: false, reason: 'material_empty' };
		if (file.size > this.config.maxBytes) return { ok: false, reason: 'material_too_large' };
		const fileName = cleanFileName(file.name);
		const incoming = path.join(this.root, INCOMING);
		await fs.mkdir(incoming, { recursive: true });
		const temp = path.join(incoming, `${randomUUID()}.part`);
		const id = randomUUID();
		let final: string | null = null;
		try {
			await writeSynced(temp, file);
			const detected = await fileTypeFromFile(temp);
			const kind: MaterialKind | null =
				detected && isMaterialKind(detected.ext) ? detected.ext : null;
			if (!kind) return { ok: false, reason: 'material_type_refused' };
			const extensions: readonly string[] = MATERIAL_KINDS[kind].extensions;
			if (!extensions.includes(extensionOf(fileName))) {
				return { ok: false, reason: 'material_name_mismatch' };
			}
			const storedPath = path.join(classId, `${id}.${MATERIAL_KINDS[kind].extensions[0]}`);
			final = this.fileOf(storedPath);
			const target = final;
			await this.db.$transaction(async (tx) => {
				await tx.material.create({
					data: {
						id,
						classId,
						fileName,
						kind,
						mimeType: MATERIAL_KINDS[kind].mime,
						sizeBytes: file.size,
						storedPath,
						uploadedById: actor.id
					}
				});
				await recordAudit(tx, {
					actor,
					action: 'material.uploaded',
					target: { type: 'material', id, label: fileName },
					classId,
					details: { kind, sizeBytes: file.size }
				});
				await fs.mkdir(path.dirname(target), { recursive: true });
				await fs.rename(temp, target);
			});
			final = null;
			return { ok: true, id };
		} finally {
			await fs.rm(temp, { force: true });
			// Renamed, but the transaction did not commit: the row is gone, so is the file.
			if (final) await fs.rm(final, { force: true });
		}
	}

	async remove(actor: Actor, id: string): Promise<boolean> {
		const material = await this.get(id);
		if (!material) return false;
		await this.db.$transaction(async (tx) => {
			await tx.material.delete({ where: { id } });
			await recordAudit(tx, {
				actor,
				action: 'material.deleted',
				target: { type: 'material', id, label: material.fileName },
				classId: material.classId
			});
		});
		await fs.rm(this.fileOf(material.storedPath), { force: true });
		return true;
	}

	async setVisibility(actor: Actor, id: string, visibility: MaterialVisibility): Promise<boolean> {
		const material = await this.get(id);
		if (!material) return false;
		if (material.visibility === visibility) return true;
		await this.db.$transaction(async (tx) => {
			await tx.material.update({ where: { id }, data: { visibility } });
			await recordAudit(tx, {
				actor,
				action: 'material.visibility_changed',
				target: { type: 'material', id, label: material.fileName },
				classId: material.classId,
				details: { visibility, previous: material.visibility }
			});
		});
		return true;
	}

	/** Startup: parts a crash left half-written (older than `olderThanMs`, so other processes' uploads stay). */
	async sweepIncoming(olderThanMs = 3600_000, now = Date.now()): Promise<number> {
		const incoming = path.join(this.root, INCOMING);
		const names = await fs.readdir(incoming).catch(() => [] as string[]);
		let removed = 0;
		for (const name of names) {
			const file = path.join(incoming, name);
			const stat = await fs.stat(file).catch(() => null);
			if (stat && now - stat.mtimeMs > olderThanMs) {
				await fs.rm(file, { force: true });
				removed++;
			}
		}
		return removed;
	}
}

/** Writes the whole file and syncs it to disk before anything refers to it. */
async function writeSynced(target: string, file: File): Promise<void> {
	const handle = await fs.open(target, 'wx');
	try {
		for await (const chunk of file.stream()) await handle.write(chunk);
		await handle.sync();
	} finally {
		await handle.close();
	}
}
