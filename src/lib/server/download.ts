/**
 * `content-disposition` for a download whose name may hold Chinese characters:
 * sent as RFC 5987 filename*, characters file systems refuse becoming _, with
 * `asciiName` as the fallback for old clients.
 */
export function attachmentDisposition(filename: string, asciiName: string): string {
	const fallback = asciiName.replace(/[^\w.-]+/g, '_');
	const safe = filename.replace(/[\\/:*?"<>|\r\n]+/g, '_');
	const encoded = encodeURIComponent(safe).replace(
		/['()*]/g,
		(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`
	);
	return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
