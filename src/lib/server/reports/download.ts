import { csvHeaders, toCsv } from '../csv.ts';
import { attachmentDisposition } from '../download.ts';
import type { ReportTable } from './tables.ts';
import { reportWorkbook, xlsxHeaders } from './workbook.ts';

/**
 * A report's download as the query string asks: `?format=xlsx` the whole
 * workbook, `?table=<key>` that table as CSV; null for an unknown table.
 */
export async function reportDownload(
	url: URL,
	name: string,
	asciiName: string,
	tables: ReportTable[]
): Promise<Response | null> {
	if (url.searchParams.get('format') === 'xlsx') {
		const body = await reportWorkbook(name, tables);
		return new Response(body, {
			headers: xlsxHeaders(attachmentDisposition(`${name}.xlsx`, `${asciiName}.xlsx`))
		});
	}
	const table = tables.find((t) => t.key === url.searchParams.get('table'));
	if (!table) return null;
	return new Response(toCsv(table.headers, table.rows), {
		headers: csvHeaders(`${name}-${table.title}.csv`, `${asciiName}-${table.key}.csv`)
	});
}
