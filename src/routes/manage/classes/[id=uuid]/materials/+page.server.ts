import { error, fail } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard.ts';
import { may } from '$lib/server/class-access.ts';
import { requireClassAccess } from '$lib/server/class-guard.ts';
import { getClass } from '$lib/server/classes.ts';
import { platform } from '$lib/server/platform.ts';
import { parseForm, readForm } from '$lib/schemas/form.ts';
import { materialIdSchema, materialVisibilitySchema } from '$lib/schemas/material.ts';
import type { Actions, PageServerLoad } from './$types';

/** 课件 of one class, for the people who manage it: upload, publish, delete. */
export const load: PageServerLoad = async ({ params, locals, url }) => {
	await requireClassAccess(locals, url, params.id, may.manageMaterials);
	const { db, materials } = await platform();
	const cls = await getClass(db, params.id);
	if (!cls) error(404, { message: 'class_not_found' });
	return {
		cls: { id: cls.id, title: cls.title },
		materials: await materials.list(cls.id),
		maxBytes: materials.config.maxBytes
	};
};

/** The signed-in user, when they manage this class's materials. */
async function manager(locals: App.Locals, url: URL, classId: string) {
	await requireClassAccess(locals, url, classId, may.manageMaterials);
	return requireUser(locals, url);
}

/** A body the server would not take whole: over the size limit, or cut off. */
function unreadable(request: Request, maxBytes: number, cause: unknown) {
	const length = Number(request.headers.get('content-length'));
	const status = (cause as { status?: number } | null)?.status;
	if (status === 413 || (Number.isFinite(length) && length > maxBytes)) {
		return fail(413, { error: 'material_too_large' as const });
	}
	return fail(400, { error: 'material_upload_interrupted' as const });
}

export const actions: Actions = {
	upload: async ({ params, locals, url, request }) => {
		const user = await manager(locals, url, params.id);
		const { materials } = await platform();
		let form: FormData;
		try {
			form = await request.formData();
		} catch (cause) {
			return unreadable(request, materials.config.maxBytes, cause);
		}
		const file = form.get('file');
		if (!(file instanceof File) || file.size === 0) return fail(400, { error: 'material_empty' });
		const outcome = await materials.upload(user, params.id, file);
		if (!outcome.ok)
			return fail(outcome.reason === 'material_too_large' ? 413 : 400, {
				error: outcome.reason
			});
		return { uploaded: file.name };
	},
	visibility: async ({ params, locals, url, request }) => {
		const user = await manager(locals, url, params.id);
		const form = parseForm(materialVisibilitySchema, await readForm(request));
		if (!form.ok) return fail(400, { error: 'error_generic' as const });
		const { materials } = await platform();
		const material = await materials.get(form.data.materialId);
		if (material?.classId !== params.id) return fail(404, { error: 'material_not_found' as const });
		await materials.setVisibility(user, material.id, form.data.visibility);
		return { visibility: form.data.visibility };
	},
	delete: async ({ params, locals, url, request }) => {
		const user = await manager(locals, url, params.id);
		const form = parseForm(materialIdSchema, await readForm(request));
		if (!form.ok) return fail(400, { error: 'error_generic' as const });
		const { materials } = await platform();
		const material = await materials.get(form.data.materialId);
		if (material?.classId !== params.id) return fail(404, { error: 'material_not_found' as const });
		await materials.remove(user, material.id);
		return { deleted: material.fileName };
	}
};
