import ExcelJS from 'exceljs';
import type { ReportTable } from './tables.ts';

/**
 * A whole report as one XLSX workbook: a sheet per table, numbers as numbers,
 * text as text (so nothing in a cell runs as a formula).
 */
export async function reportWorkbook(
	title: string,
	tables: ReportTable[]
): Promise<Uint8Array<ArrayBuffer>> {
	const workbook = new ExcelJS.Workbook();
	workbook.creator = '纳税人学堂';
	workbook.title = title;
	const used = new Set<string>();
	for (const table of tables) {
		const sheet = workbook.addWorksheet(sheetName(table.title, used));
		sheet.addRow(table.headers).font = { bold: true };
		for (const row of table.rows) sheet.addRow(row.map((cell) => cell ?? null));
		sheet.views = [{ state: 'frozen', ySplit: 1 }];
		sheet.columns.forEach((column, i) => {
			const widest = Math.max(
				...[table.headers[i] ?? '', ...table.rows.map((r) => String(r[i] ?? ''))].map((text) =>
					[...text].reduce((w, ch) => w + (ch.charCodeAt(0) > 0xff ? 2 : 1), 0)
				)
			);
			column.width = Math.min(60, Math.max(8, widest + 2));
		});
	}
	return new Uint8Array(await workbook.xlsx.writeBuffer()).slice();
}

/** Excel's sheet names: at most 31 characters, none of []:*?/\, each used once. */
function sheetName(title: string, used: Set<string>): string {
	const base = title.replace(/[[\]:*?/\\]/g, ' ').slice(0, 28) || 'Sheet';
	let name = base;
	for (let n = 2; used.has(name); n++) name = `${base} ${n}`;
	used.add(name);
	return name;
}

export function xlsxHeaders(disposition: string): Record<string, string> {
	return {
		'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
		'content-disposition': disposition,
		'cache-control': 'no-store'
	};
}
