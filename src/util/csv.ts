import { stringify } from "csv-stringify/sync";

/**
 * What a spreadsheet may take for the start of a formula (OWASP, "CSV Injection"): `=`, `+`,
 * `-`, `@`, and tab or carriage return, which some programs skip before reading on.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell a spreadsheet shows as the text it is: one that could start a formula gets a leading `'`. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * CSV text for rows of cells, every text cell neutralised. Every CSV the app or its CLI writes is
 * made here; numbers (line numbers) are written as they are.
 */
export function csvText(rows: readonly (readonly (string | number)[])[]): string {
  return stringify(
    rows.map((row) => row.map((cell) => (typeof cell === "number" ? String(cell) : neutraliseCell(cell)))),
  );
}
