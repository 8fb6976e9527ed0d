/**
 * 统一社会信用代码 (unified social credit code), GB 32100-2015: 18 characters
 * from a 31-character alphabet (no I, O, Z, S, V); the last is a check character
 * computed from the first 17 with weights 3^i mod 31.
 */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export type CreditCodeProblem = 'length' | 'characters' | 'check';

export function normalizeCreditCode(input: string): string {
	return input.trim().toUpperCase();
}

export function creditCodeCheckCharacter(first17: string): string {
	let sum = 0;
	for (let i = 0; i < 17; i++) {
		sum += ALPHABET.indexOf(first17[i] ?? '') * (WEIGHTS[i] ?? 0);
	}
	return ALPHABET[(31 - (sum % 31)) % 31] ?? '';
}

/** Returns null when the code is valid, otherwise what is wrong with it. */
export function checkCreditCode(code: string): CreditCodeProblem | null {
	if (code.length !== 18) return 'length';
	if (![...code].every((c) => ALPHABET.includes(c))) return 'characters';
	return creditCodeCheckCharacter(code.slice(0, 17)) === code[17] ? null : 'check';
}
