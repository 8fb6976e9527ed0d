import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	classAccess,
	databaseFacts,
	mayDownloadMaterial
} from '../../src/lib/server/class-access.ts';
import type { Db } from '../../src/lib/server/db/client.ts';
import type { Role } from '../../src/lib/server/db/generated/enums.ts';
import { Materials } from '../../src/lib/server/materials.ts';
import { register } from '../../src/lib/server/registration.ts';
import { openTestDatabase, type TestDatabase } from '../support/database.ts';
import { EXECUTABLE, makePdf, makeXlsx, PNG } from '../support/files.ts';
import { makeClass, makeUser } from '../support/fixtures.ts';

/**
 * The material store on the real database and a real folder: what is
 * accepted, who may download it, and that a refused or failed upload leaves
 * neither a file nor a row.
 */
let t: TestDatabase;
let db: Db;
let dir: string;
let materials: Materials;
const MAX = 64 * 1024;

beforeAll(async () => {
	t = await openTestDatabase();
	db = t.db;
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-materials-'));
	materials = new Materials(db, { dir, maxBytes: MAX });
});
afterAll(async () => {
	fs.rmSync(dir, { recursive: true, force: true });
	await t?.close();
});

/** Every file under the store, .incoming included. */
const filesOnDisk = (): string[] =>
	(fs.readdirSync(dir, { recursive: true }) as string[]).filter((p) =>
		fs.statSync(path.join(dir, p)).isFile()
	);

const file = (bytes: Buffer, name: string) => new File([new Uint8Array(bytes)], name);

describe('materials', () => {
	it('keeps an upload whole, for registrants, and for anyone once public', async () => {
		const staff = await makeUser(db, 'STAFF');
		const cls = await makeClass(db);
		const registrant = await makeUser(db);
		const outsider = await makeUser(db);
		await register(db, cls.id, registrant.id);
		const pdf = makePdf('VAT refund handout');
		const outcome = await materials.upload(staff, cls.id, file(pdf, '留抵退税讲义.pdf'));
		expect(outcome.ok).toBe(true);
		const id = outcome.ok ? outcome.id : '';
		const stored = (await materials.get(id))!;
		expect(stored).toMatchObject({
			fileName: '留抵退税讲义.pdf',
			kind: 'pdf',
			mimeType: 'application/pdf',
			sizeBytes: pdf.length,
			visibility: 'REGISTRANTS'
		});
		expect(fs.readFileSync(materials.fileOf(stored.storedPath))).toEqual(pdf);

		const may = async (user: { id: string; role: Role } | null) =>
			mayDownloadMaterial(
				(await classAccess(databaseFacts(db), user, cls.id))!,
				(await materials.get(id))!
			);
		expect(await may(registrant)).toBe(true);
		expect(await may(outsider)).toBe(false);
		expect(await may(null)).toBe(false);
		await materials.setVisibility(staff, id, 'PUBLIC');
		expect(await may(outsider)).toBe(true);
		expect(await may(null)).toBe(true);

		const audit = await db.auditEntry.findMany({
			where: { targetId: id },
			orderBy: { at: 'asc' }
		});
		expect(audit.map((a) => a.action)).toEqual([
			'material.uploaded',
			'material.visibility_changed'
		]);
		expect(await materials.remove(staff, id)).toBe(true);
		expect(fs.existsSync(materials.fileOf(stored.storedPath))).toBe(false);
		expect(await db.auditEntry.count({ where: { targetId: id, action: 'material.deleted' } })).toBe(
			1
		);
	});

	it('knows PDF, XLSX and images by their content', async () => {
		const staff = await makeUser(db, 'STAFF');
		const cls = await makeClass(db);
		const xlsx = await materials.upload(staff, cls.id, file(await makeXlsx(), '申报表.xlsx'));
		const png = await materials.upload(staff, cls.id, file(PNG, '二维码.PNG'));
		expect([xlsx.ok, png.ok]).toEqual([true, true]);
		expect((await materials.list(cls.id)).map((m) => m.kind)).toEqual(['xlsx', 'png']);
	});

	it('refuses a renamed executable, a wrong extension, an empty or oversize file, leaving nothing', async () => {
		const staff = await makeUser(db, 'STAFF');
		const cls = await makeClass(db);
		const before = filesOnDisk();
		const refusals = [
			await materials.upload(staff, cls.id, file(EXECUTABLE, '讲义.pdf')),
			await materials.upload(staff, cls.id, file(PNG, '讲义.pdf')),
			await materials.upload(staff, cls.id, file(Buffer.alloc(0), '空.pdf')),
			await materials.upload(staff, cls.id, file(Buffer.alloc(MAX + 1, 0x25), '大.pdf'))
		];
		expect(refusals).toEqual([
			{ ok: false, reason: 'material_type_refused' },
			{ ok: false, reason: 'material_name_mismatch' },
			{ ok: false, reason: 'material_empty' },
			{ ok: false, reason: 'material_too_large' }
		]);
		expect(filesOnDisk()).toEqual(before);
		expect(await db.material.count({ where: { classId: cls.id } })).toBe(0);
	});

	it('leaves no file when the row cannot be written', async () => {
		const staff = await makeUser(db, 'STAFF');
		const before = filesOnDisk();
		// No such class: the insert fails after the file was written and checked.
		await expect(
			materials.upload(staff, randomUUID(), file(makePdf('orphan'), '孤儿.pdf'))
		).rejects.toThrow();
		expect(filesOnDisk()).toEqual(before);
		expect(await db.auditEntry.count({ where: { targetLabel: '孤儿.pdf' } })).toBe(0);
	});
});
