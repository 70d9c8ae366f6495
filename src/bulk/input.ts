import { parse } from "csv-parse/sync";
import { z } from "zod";
import { bulkItem, type BulkItemInput } from "../block-slots/schemas";
import { parseInput } from "../validation";
import { AppError } from "../errors";

export const MAX_ITEMS = 10_000;
export const CSV_COLUMNS = ["locationId", "calendarId", "assignedUserId", "startTime", "endTime", "title"] as const;

export const bulkBody = z.strictObject({
  items: z
    .array(bulkItem)
    .min(1, "give at least one item")
    .max(MAX_ITEMS, `at most ${MAX_ITEMS.toLocaleString("en")} items per job`),
});

/** `{items: [...]}`: every bad item is named by its index (`items.3.endTime`). */
export const itemsFromJson = (body: unknown): BulkItemInput[] => parseInput(bulkBody, body, "body").items;

/**
 * A CSV with the header `locationId,calendarId,assignedUserId,startTime,endTime,title`. Problems
 * are named by line number as a spreadsheet shows it (the header is line 1).
 */
export function itemsFromCsv(text: string): BulkItemInput[] {
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true });
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new AppError("invalid_request", `The CSV could not be read${line ? ` at line ${line}` : ""}.`, {
      errors: [{ path: line ? `line ${line}` : "body", message: (err as Error).message }],
    });
  }
  const [header, ...data] = rows;
  const missing = CSV_COLUMNS.filter((c) => !header?.includes(c) && c !== "title");
  const unknown = (header ?? []).filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  if (!header || missing.length || unknown.length) {
    throw new AppError("invalid_request", `The CSV header must be: ${CSV_COLUMNS.join(",")}.`, {
      errors: [
        ...missing.map((c) => ({ path: "line 1", message: `missing column ${c}` })),
        ...unknown.map((c) => ({ path: "line 1", message: `unknown column ${c}` })),
      ],
    });
  }
  const wrongWidth = data.findIndex((row) => row.length !== header.length);
  if (wrongWidth >= 0) {
    throw new AppError("invalid_request", `The CSV is invalid: line ${wrongWidth + 2}.`, {
      errors: [
        {
          path: `line ${wrongWidth + 2}`,
          message: `has ${data[wrongWidth]!.length} cells, the header has ${header.length}`,
        },
      ],
    });
  }
  // An empty cell is an absent field: "exactly one of calendarId or assignedUserId" reads naturally.
  const items = data.map((row) =>
    Object.fromEntries(header.flatMap((column, i) => (row[i] ? [[column, row[i]]] : []))),
  );
  return parseInput(
    z.array(bulkItem).min(1, "the CSV has no rows").max(MAX_ITEMS, `at most ${MAX_ITEMS} rows per job`),
    items,
    "CSV",
    ([index, ...field]: PropertyKey[]) =>
      typeof index === "number" ? `line ${index + 2}${field.length ? `.${field.join(".")}` : ""}` : "CSV",
  );
}
