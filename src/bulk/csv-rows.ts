import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CsvError, parse, type Options } from "csv-parse";
import { AppError } from "../errors";

/** One record of a CSV and the line it starts on, as a spreadsheet numbers it (the header is line 1). */
export interface CsvRow {
  line: number;
  cells: string[];
}

/**
 * The longest record taken. A real row is well under 1,000 characters; a quote left open swallows
 * the rest of the file into one cell, and this stops that at once instead of at the end.
 */
export const MAX_RECORD_CHARS = 10_000;

const lineBreaks = (raw: string) => raw.match(/\r\n|\r|\n/g)?.length ?? 0;

const QUOTE_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "a quoted cell starts on this row and is never closed",
  CSV_MAX_RECORD_SIZE: `the row is longer than ${MAX_RECORD_CHARS.toLocaleString("en")} characters (a quote left open?)`,
  INVALID_OPENING_QUOTE: 'a quote inside a cell: quote the whole cell and double the quote ("")',
  CSV_INVALID_CLOSING_QUOTE: "something follows a closing quote in the same cell",
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: "something follows a closing quote in the same cell",
};

/**
 * Reads CSV records as the bytes arrive, each with the line it starts on: a quoted cell may span
 * lines, and blank lines count, so the numbers are the ones the file shows. `check` sees each row
 * as it is parsed and may throw to stop at once (a row of the wrong width, one row too many):
 * the rest of the input is then not read. A quote problem stops it the same way, naming the row.
 *
 * The API and the bulk CLI both read files through this, so their line numbers agree.
 */
export async function* csvRows(
  source: AsyncIterable<Buffer | string>,
  check: (row: CsvRow) => void = () => {},
): AsyncGenerator<CsvRow> {
  // Where the record being parsed starts. csv-parse's own `info.lines` is where a record ends, and
  // it counts a CRLF inside a quoted cell twice. A record spans the line breaks inside its quoted
  // cells (outside quotes a break ends the record), plus the one that ends it.
  let next = 1;
  const options: Options<CsvRow, string[]> = {
    bom: true,
    trim: true,
    relax_column_count: true,
    // Blank lines come through as one empty cell and are dropped below, so they are counted.
    skip_empty_lines: false,
    max_record_size: MAX_RECORD_CHARS,
    on_record: (cells): CsvRow | null => {
      const line = next;
      next += 1;
      for (const cell of cells) if (/[\r\n]/.test(cell)) next += lineBreaks(cell);
      if (cells.length === 1 && cells[0] === "") return null;
      const row = { line, cells };
      check(row);
      return row;
    },
  };
  // csv-parse's types let on_record reshape a record only when `columns` is set; it does so regardless.
  const parser = parse(options as unknown as Options);
  const feeding = pipeline(Readable.from(source, { objectMode: false }), parser).catch(() => {
    // Its error, if any, reaches the loop below through the parser.
  });
  try {
    for await (const row of parser as AsyncIterable<CsvRow>) yield row;
  } catch (err) {
    if (err instanceof CsvError && QUOTE_PROBLEMS[err.code]) {
      throw new AppError("invalid_request", `The CSV cannot be read past line ${next}.`, {
        errors: [{ path: `line ${next}`, message: QUOTE_PROBLEMS[err.code]! }],
      });
    }
    throw err;
  } finally {
    // Stopped early (a bad row, or the caller had enough): end the parser and what feeds it.
    parser.destroy();
    await feeding;
  }
}
