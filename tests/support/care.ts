import { postForm } from './live.ts';

/** Turn 关怀模式 on or off through the header's switch (its form action), as a signed-in user. */
export async function chooseCareMode(baseUrl: string, sessionCookie: string, on: boolean) {
	const response = await postForm(
		baseUrl,
		'/care-mode',
		{ careMode: on ? 'on' : 'off', redirectTo: '/' },
		sessionCookie
	);
	if (response.status !== 303) throw new Error(`care-mode switch answered ${response.status}`);
}
