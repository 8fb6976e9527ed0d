import { describe, expect, it } from 'vitest';
import { sortQuestions, staffQueue } from '../../src/lib/qa/client.ts';
import type { QuestionView } from '../../src/lib/qa/protocol.ts';
import { readCookie, sameOrigin } from '../../src/lib/server/realtime/socket-sessions.ts';

function q(id: string, over: Partial<QuestionView> = {}, priority = false): QuestionView {
	return {
		id,
		version: 1,
		status: 'VISIBLE',
		text: id,
		authorName: null,
		voteCount: 0,
		pinned: false,
		offsetMs: null,
		answerText: null,
		answeredLive: false,
		answeredByName: null,
		answeredAt: null,
		answerOffsetMs: null,
		createdAt: `2026-11-25T10:00:0${id.length}Z`,
		staff: {
			authorId: 'u',
			realName: 'n',
			anonymous: false,
			priority,
			claimedById: null,
			claimedByName: null
		},
		...over
	};
}

describe('Q&A building blocks', () => {
	it('viewers sort by votes or newest with the pinned question first', () => {
		const list = [q('a', { voteCount: 2 }), q('bb', { voteCount: 5 }), q('ccc', { pinned: true })];
		expect(sortQuestions(list, 'votes').map((x) => x.id)).toEqual(['ccc', 'bb', 'a']);
		expect(sortQuestions(list, 'newest').map((x) => x.id)).toEqual(['ccc', 'bb', 'a']);
		expect(sortQuestions([q('a'), q('bb')], 'newest').map((x) => x.id)).toEqual(['bb', 'a']);
	});

	it('the staff queue puts pending, then 爱心通道 askers, then votes, then answered', () => {
		const list = [
			q('answered', { answerText: '已答', voteCount: 9 }),
			q('popular', { voteCount: 4 }),
			q('elder', {}, true),
			q('waiting', { status: 'PENDING' }),
			q('gone', { status: 'HIDDEN' })
		];
		expect(staffQueue(list).map((x) => x.id)).toEqual([
			'waiting',
			'elder',
			'popular',
			'answered',
			'gone'
		]);
	});

	it('reads the session cookie and refuses cross-site handshakes', () => {
		expect(readCookie('a=1; tc_session=abc%3D; b=2', 'tc_session')).toBe('abc=');
		expect(readCookie(undefined, 'tc_session')).toBeNull();
		expect(sameOrigin({ host: 'class.example:3000' })).toBe(true);
		expect(sameOrigin({ host: 'class.example:3000', origin: 'http://class.example:3000' })).toBe(
			true
		);
		expect(sameOrigin({ host: 'class.example', origin: 'https://evil.example' })).toBe(false);
		expect(
			sameOrigin({
				host: '127.0.0.1:3000',
				'x-forwarded-host': 'class.example',
				origin: 'https://class.example'
			})
		).toBe(true);
	});
});
