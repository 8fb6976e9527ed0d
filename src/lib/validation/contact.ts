/** Mainland China mobile numbers: 11 digits starting 13x-19x; +86 and separators are tolerated. */
export function normalizeMobile(input: string): string {
	return input.replace(/[\s-]/g, '').replace(/^(\+?86)/, '');
}

export function isMobile(input: string): boolean {
	return /^1[3-9]\d{9}$/.test(normalizeMobile(input));
}

export function isEmail(input: string): boolean {
	return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.trim());
}
