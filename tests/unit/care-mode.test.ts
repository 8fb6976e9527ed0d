import { describe, expect, it } from 'vitest';
import { careModeFor, markCareMode } from '../../src/lib/server/care-mode.ts';
import { commandFor } from '../../src/lib/components/player/shortcuts.ts';

describe('关怀模式 choice', () => {
	const taxpayer = { careMode: null, priorityService: false };
	const priority = { careMode: null, priorityService: true };

	it('follows the browser for visitors, off when it never chose', () => {
		expect(careModeFor(null, null)).toBe(false);
		expect(careModeFor(null, true)).toBe(true);
		expect(careModeFor(null, false)).toBe(false);
	});

	it('is on for 爱心通道 users until a choice is made', () => {
		expect(careModeFor(priority, null)).toBe(true);
		expect(careModeFor(taxpayer, null)).toBe(false);
	});

	it("takes the browser's choice before the account's default", () => {
		expect(careModeFor(taxpayer, true)).toBe(true);
		expect(careModeFor(priority, false)).toBe(false);
	});

	it("lets the account's own choice win everywhere", () => {
		expect(careModeFor({ careMode: false, priorityService: true }, true)).toBe(false);
		expect(careModeFor({ careMode: true, priorityService: false }, false)).toBe(true);
	});
});

describe('markCareMode', () => {
	const head = '<!doctype html>\n<html lang="zh-CN" data-care="%tc.care%">';

	it("writes the mode into the document's first chunk", () => {
		expect(markCareMode(head, true)).toContain('data-care="on"');
		expect(markCareMode(head, false)).toContain('data-care="off"');
	});

	it('leaves the same text alone in page content', () => {
		const content = '<p>有人在问题里写了 %tc.care%</p>';
		expect(markCareMode(content, true)).toBe(content);
	});
});

describe('player shortcuts', () => {
	const key = (k: string, target: Partial<HTMLElement & { type: string }> = {}, mods = {}) =>
		commandFor({
			key: k,
			target: { tagName: 'BUTTON', ...target },
			...mods
		} as unknown as KeyboardEvent);

	it('maps the listed keys, in either case', () => {
		expect(['m', 'M', 'ArrowUp', 'ArrowDown', 'f', 'P', 'q'].map((k) => key(k))).toEqual([
			'mute',
			'mute',
			'volumeUp',
			'volumeDown',
			'fullscreen',
			'pip',
			'quality'
		]);
		expect(key('x')).toBeNull();
		expect(key('m', {}, { ctrlKey: true })).toBeNull();
	});

	it('leaves keys to fields that need them', () => {
		expect(key('m', { tagName: 'TEXTAREA' })).toBeNull();
		expect(key('q', { tagName: 'SELECT' })).toBeNull();
		expect(key('f', { tagName: 'INPUT', type: 'text' })).toBeNull();
		expect(key('ArrowUp', { tagName: 'INPUT', type: 'range' })).toBeNull();
		expect(key('m', { tagName: 'INPUT', type: 'range' })).toBe('mute');
	});
});
