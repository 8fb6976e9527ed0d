import { error, fail, redirect } from '@sveltejs/kit';
import { classAccess, may } from '$lib/server/class-access.ts';
import { getDb, platform } from '$lib/server/platform.ts';
import { listForReplay } from '$lib/server/qa/replay.ts';
import {
	deleteRecording,
	getRecording,
	hasInterpreterVersion,
	listRecordings,
	readTimeline,
	recordingAccess,
	setVisibility
} from '$lib/server/recordings/service.ts';
import { videoTimeAt } from '../../../../../media-server/src/recorder/finalize.ts';
import type { Actions, PageServerLoad } from './$types';
import { readForm } from '$lib/schemas/form.ts';

export const load: PageServerLoad = async ({ params, locals, url }) => {
	const db = await getDb();
	const cls = await db.policyClass.findUnique({
		where: { id: params.id },
		select: { id: true, title: true, instructorId: true }
	});
	if (!cls) error(404, { message: 'class_not_found' });
	const all = await listRecordings(db, cls.id);
	const ready = all.filter((r) => r.status === 'READY');
	const wanted = url.searchParams.get('r');
	const chosen = ready.find((r) => r.id === wanted) ?? ready.at(-1) ?? null;
	const { accessFacts } = await platform();
	const classRights = await classAccess(accessFacts, locals.user, cls.id, {
		recordingVisibility: chosen?.visibility ?? 'REGISTRANTS'
	});
	const access = await recordingAccess(
		accessFacts,
		locals.user,
		cls,
		chosen?.visibility ?? 'REGISTRANTS'
	);
	if (access === 'none' || !classRights) {
		if (!locals.user)
			redirect(303, `/login?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
		error(403, { message: 'error_forbidden' });
	}
	let questions: {
		id: string;
		text: string;
		authorName: string | null;
		answerText: string | null;
		at: number;
	}[] = [];
	// Askers' names are for registrants and staff, not a public audience.
	const namesShown = may.seeAskerNames(classRights);
	let withInterpreter = false;
	if (chosen) {
		const rec = await getRecording(db, chosen.id);
		withInterpreter = rec !== null && chosen.hasMp4 && (await hasInterpreterVersion(rec.dir));
		const timeline = rec ? await readTimeline(rec.dir) : [];
		const replay = await listForReplay(db, cls.id);
		const startedAt = rec?.startedAt.getTime() ?? 0;
		questions = (replay?.questions ?? []).map((q) => ({
			id: q.id,
			text: q.text,
			authorName: namesShown ? q.authorName : null,
			answerText: q.answerText,
			at: Math.round(videoTimeAt(timeline, Date.parse(q.createdAt) - startedAt) * 10) / 10
		}));
	}
	return {
		cls: { id: cls.id, title: cls.title },
		recording: chosen,
		/** Also offered with the sign-language interpreter overlaid (the default then). */
		withInterpreter,
		// Other ready parts (a class recorded again after a restart), and for
		// managers every recording with its state.
		recordings: access === 'manage' ? all : ready,
		canManage: access === 'manage',
		namesShown,
		questions
	};
};

async function managed(locals: App.Locals, classId: string, form: FormData) {
	if (!locals.user) return null;
	const id = String(form.get('recordingId') ?? '');
	const db = await getDb();
	const rec = await getRecording(db, id);
	if (!rec || rec.classId !== classId) return null;
	const access = await classAccess((await platform()).accessFacts, locals.user, classId);
	if (!access || !may.manage(access)) return null;
	return { db, rec, actor: locals.user };
}

export const actions: Actions = {
	visibility: async ({ locals, params, request }) => {
		const form = await readForm(request);
		const found = await managed(locals, params.id, form);
		if (!found) return fail(403, { refusal: 'error_forbidden' });
		const visibility = form.get('visibility') === 'PUBLIC' ? 'PUBLIC' : 'REGISTRANTS';
		await setVisibility(found.db, found.actor, found.rec.id, visibility);
		return { visibility };
	},
	delete: async ({ locals, params, request }) => {
		const form = await readForm(request);
		const found = await managed(locals, params.id, form);
		if (!found) return fail(403, { refusal: 'error_forbidden' });
		// Still being written or converted: delete it once it is READY or FAILED.
		if (found.rec.status === 'RECORDING' || found.rec.status === 'PROCESSING') {
			return fail(409, { refusal: 'error_forbidden' });
		}
		await deleteRecording(found.db, found.actor, found.rec.id);
		return { deleted: true };
	}
};
