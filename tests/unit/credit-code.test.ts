import { describe, expect, it } from 'vitest';
import {
	checkCreditCode,
	creditCodeCheckCharacter,
	normalizeCreditCode
} from '../../src/lib/validation/credit-code.ts';

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** Independent implementation straight from GB 32100-2015: W_i = 3^(i) mod 31. */
function referenceCheck(first17: string): string {
	let sum = 0;
	let weight = 1;
	for (const c of first17) {
		sum += ALPHABET.indexOf(c) * weight;
		weight = (weight * 3) % 31;
	}
	return ALPHABET[(31 - (sum % 31)) % 31]!;
}

describe('unified social credit code (GB 32100-2015)', () => {
	it('accepts real codes', () => {
		for (const code of [
			'91350100M000100Y43', // the standard's own example
			'914403001922038216', // Huawei Technologies Co., Ltd.
			'9144030071526726XG', // Shenzhen Tencent Computer Systems Co., Ltd.
			'91330100799655058B' // Alibaba (China) Co., Ltd.
		]) {
			expect(checkCreditCode(code), code).toBeNull();
		}
	});

	it('computes the check character like the reference implementation', () => {
		expect(creditCodeCheckCharacter('91350100M000100Y4')).toBe('3');
		// Deterministic pseudo-random bodies over the whole alphabet.
		let state = 12345;
		for (let n = 0; n < 500; n++) {
			let body = '';
			for (let i = 0; i < 17; i++) {
				state = (state * 1103515245 + 12345) % 2 ** 31;
				body += ALPHABET[state % 31];
			}
			const check = creditCodeCheckCharacter(body);
			expect(check).toBe(referenceCheck(body));
			expect(checkCreditCode(body + check)).toBeNull();
		}
	});

	it('covers the check value 0 case (remainder 0 maps to "0")', () => {
		// Find a body whose weighted sum is a multiple of 31 by adjusting the last char.
		const prefix = '9135010000000000';
		const body = [...ALPHABET].map((c) => prefix + c).find((b) => referenceCheck(b) === '0');
		expect(body).toBeDefined();
		expect(creditCodeCheckCharacter(body!)).toBe('0');
		expect(checkCreditCode(`${body}0`)).toBeNull();
	});

	it('rejects the wrong length', () => {
		expect(checkCreditCode('')).toBe('length');
		expect(checkCreditCode('91350100M000100Y4')).toBe('length');
		expect(checkCreditCode('91350100M000100Y431')).toBe('length');
	});

	it('rejects characters outside the alphabet (I, O, Z, S, V, lower case, punctuation)', () => {
		for (const bad of ['I', 'O', 'Z', 'S', 'V', 'a', '-', ' ']) {
			expect(checkCreditCode(`91350100M000100${bad}43`), bad).toBe('characters');
		}
	});

	it('rejects a wrong check character', () => {
		for (const c of ALPHABET.replace('3', '')) {
			expect(checkCreditCode(`91350100M000100Y4${c}`)).toBe('check');
		}
		// A transposition in the body is also caught.
		expect(checkCreditCode('91351000M000100Y43')).toBe('check');
	});

	it('normalizes case and surrounding spaces', () => {
		expect(normalizeCreditCode('  91350100m000100y43 ')).toBe('91350100M000100Y43');
		expect(checkCreditCode(normalizeCreditCode(' 91350100m000100y43'))).toBeNull();
	});
});
