import fs from 'node:fs';
import ExcelJS from 'exceljs';

/** Real files of each kind the material tests upload, made in the test. */

/** A one-page PDF with a line of text, built by hand (cross-reference offsets included). */
export function makePdf(text: string): Buffer {
	const content = `BT /F1 24 Tf 72 720 Td (${text}) Tj ET`;
	const objects = [
		'<< /Type /Catalog /Pages 2 0 R >>',
		'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
		'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
		`<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
		'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
	];
	let pdf = '%PDF-1.4\n';
	const offsets: number[] = [];
	objects.forEach((body, i) => {
		offsets.push(pdf.length);
		pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
	});
	const xref = pdf.length;
	pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
	for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
	pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
	return Buffer.from(pdf, 'latin1');
}

/** A 1×1 PNG. */
export const PNG = Buffer.from(
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
	'base64'
);

/** A real executable (ELF), to be renamed as a document. */
export const EXECUTABLE = fs.readFileSync('/bin/true');

export async function makeXlsx(): Promise<Buffer> {
	const workbook = new ExcelJS.Workbook();
	workbook.addWorksheet('申报表').addRow(['项目', '金额']);
	return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** `size` bytes that are a PDF by their magic bytes (a PDF header and padding). */
export function pdfOfSize(size: number): Buffer {
	const pdf = makePdf('padding');
	const padded = Buffer.alloc(size, 0x20);
	pdf.copy(padded, 0, 0, Math.min(pdf.length, size));
	return padded;
}
