import { error, redirect } from '@sveltejs/kit';
import { m } from '$lib/paraglide/messages.js';
import { classAccess, mayDownloadMaterial } from '$lib/server/class-access.ts';
import { attachmentDisposition } from '$lib/server/download.ts';
import { platform } from '$lib/server/platform.ts';
import { serveFile } from '$lib/server/recordings/serve.ts';
import type { RequestHandler } from './$types';

/**
 * One class material, Range-served (pdf.js reads large PDFs in pieces) under
 * the name it was uploaded with. Access is asked on every request: public
 * files for anyone, the rest for registrants and the class's managers.
 */
export const GET: RequestHandler = async ({ params, locals, request, url }) => {
	const { accessFacts, materials } = await platform();
	const material = await materials.get(params.id);
	if (!material) error(404, { message: 'material_not_found' });
	const access = await classAccess(accessFacts, locals.user, material.classId);
	if (!access) error(404, { message: 'material_not_found' });
	if (!mayDownloadMaterial(access, material)) {
		if (!locals.user) redirect(303, `/login?redirectTo=${encodeURIComponent(url.pathname)}`);
		// A download link, not a page: the refusal is the message itself.
		return new Response(m.material_forbidden(), {
			status: 403,
			headers: { 'content-type': 'text/plain; charset=utf-8' }
		});
	}
	const response = await serveFile(
		materials.fileOf(material.storedPath),
		request,
		material.mimeType
	);
	response.headers.set(
		'content-disposition',
		attachmentDisposition(material.fileName, `material.${material.kind}`)
	);
	return response;
};

export const HEAD: RequestHandler = GET;
