/**
 * Lightweight HLS viewers for the viewers-per-box bench: each follows the
 * live playlist as a player does (reloads it after a segment's duration,
 * fetches every new segment once) and notes whether each segment arrived in
 * time: within one segment duration of first being listed, else the player
 * would stall. Prints one JSON report after `seconds`.
 *
 *   tsx bench/viewers-per-box/hls-clients.ts <playlist url> <cookie> <clients> <seconds>
 */
import process from 'node:process';

const [url, cookie, clientsArg, secondsArg] = process.argv.slice(2) as [
	string,
	string,
	string,
	string
];
const clients = Number(clientsArg);
const until = Date.now() + Number(secondsArg) * 1000;
const headers = { cookie };
const report = {
	clients,
	segments: 0,
	onTime: 0,
	late: 0,
	errors: 0,
	bytes: 0,
	playlists: 0,
	/** Mean time of a playlist and of a segment request, ms. */
	playlistMs: 0,
	segmentMs: 0
};
let playlistMs = 0;
let segmentMs = 0;

async function viewer(): Promise<void> {
	// Players do not start in step.
	await new Promise((r) => setTimeout(r, Math.random() * 1000));
	const seen = new Set<string>();
	let first = true;
	while (Date.now() < until) {
		const started = Date.now();
		let wait = 1000;
		try {
			const response = await fetch(url, { headers });
			if (!response.ok) throw new Error(String(response.status));
			const text = await response.text();
			report.playlists++;
			playlistMs += Date.now() - started;
			const lines = text.split('\n');
			const fresh: { uri: string; duration: number }[] = [];
			for (let i = 0; i < lines.length; i++) {
				const line = lines[i]!;
				if (!line.startsWith('#EXTINF:')) continue;
				const uri = lines[i + 1]!.trim();
				const duration = Number.parseFloat(line.slice(8));
				wait = duration * 1000;
				if (seen.has(uri)) continue;
				seen.add(uri);
				// A player joining starts near the live edge, not at the window's start.
				if (!first || i >= lines.length - 6) fresh.push({ uri, duration });
			}
			first = false;
			for (const segment of fresh) {
				const asked = Date.now();
				const got = await fetch(new URL(segment.uri, url), { headers });
				if (!got.ok) throw new Error(String(got.status));
				report.bytes += (await got.arrayBuffer()).byteLength;
				report.segments++;
				segmentMs += Date.now() - asked;
				if (Date.now() - started <= segment.duration * 1000) report.onTime++;
				else report.late++;
			}
		} catch {
			report.errors++;
		}
		await new Promise((r) => setTimeout(r, Math.max(0, wait - (Date.now() - started))));
	}
}

await Promise.all(Array.from({ length: clients }, viewer));
report.playlistMs = Math.round(playlistMs / Math.max(1, report.playlists));
report.segmentMs = Math.round(segmentMs / Math.max(1, report.segments));
console.log(JSON.stringify(report));
