import { describe, expect, it } from 'vitest';
import { isEmail, isMobile, normalizeMobile } from '../../src/lib/validation/contact.ts';

describe('mainland mobile numbers', () => {
	it('normalizes +86, 86, spaces and dashes away', () => {
		expect(normalizeMobile('13800138000')).toBe('13800138000');
		expect(normalizeMobile('+86 138 0013 8000')).toBe('13800138000');
		expect(normalizeMobile('+8613800138000')).toBe('13800138000');
		expect(normalizeMobile('8613800138000')).toBe('13800138000');
		expect(normalizeMobile('138-0013-8000')).toBe('13800138000');
		expect(normalizeMobile(' 139 0013 9000 ')).toBe('13900139000');
	});

	it('accepts 11-digit numbers starting 13-19', () => {
		for (const n of ['13800138000', '15912345678', '19912345678', '+86 170 1234 5678']) {
			expect(isMobile(n), n).toBe(true);
		}
	});

	it('rejects other numbers', () => {
		for (const n of [
			'',
			'12800138000', // 12x is not a mobile prefix
			'10086',
			'1380013800', // 10 digits
			'138001380001', // 12 digits
			'23800138000',
			'+1 212 555 0100',
			'1380013800a',
			'13800１38000' // full-width digit
		]) {
			expect(isMobile(n), n).toBe(false);
		}
	});
});

describe('email addresses', () => {
	it('accepts ordinary addresses, trimming spaces', () => {
		for (const e of ['zhang@example.com', ' wang.li+tax@mail.example.cn ', 'A@B.CN']) {
			expect(isEmail(e), e).toBe(true);
		}
	});

	it('rejects malformed ones', () => {
		for (const e of [
			'',
			'zhang',
			'zhang@',
			'@example.com',
			'zhang@example',
			'zh ang@example.com',
			'a@@b.cn'
		]) {
			expect(isEmail(e), e).toBe(false);
		}
	});
});
