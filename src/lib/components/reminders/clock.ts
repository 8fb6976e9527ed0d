import { onMount } from 'svelte';
import { SvelteDate } from 'svelte/reactivity';

/**
 * The time now, for reminders that appear as a class draws near: the
 * server's time when rendered there, then the browser's, every 15 seconds.
 */
export function useClock(): SvelteDate {
	const now = new SvelteDate();
	onMount(() => {
		now.setTime(Date.now());
		const timer = setInterval(() => now.setTime(Date.now()), 15_000);
		return () => clearInterval(timer);
	});
	return now;
}
