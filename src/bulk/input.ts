import { setImmediate as nextTurn } from "node:timers/promises";
import { z } from "zod";
import { bulkItem, type BulkItemInput } from "../block-slots/schemas";
import { AppError, type FieldError } from "../errors";
import { CONTROL_CHARS } from "../util/ids";
import { describeIssue } from "../validation";
import { csvRows, type CsvRow } from "./csv-rows";
import { jsonItems } from "./json-items";

export const MAX_ITEMS = 10_000;
export const CSV_COLUMNS = ["locationId", "calendarId", "assignedUserId", "startTime", "endTime", "title"] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** The JSON body as the API document describes it; requests are read by `itemsFromJson`. */
export const bulkBody = z.strictObject({
  items: z
    .array(bulkItem)
    .min(1, "give at least one item")
    .max(MAX_ITEMS, `at most ${MAX_ITEMS.toLocaleString("en")} items per job`),
});

/** `?invalid=`: `reject` (the default) refuses a request with any invalid item; `skip` runs the valid ones. */
export type InvalidItems = "reject" | "skip";

/** An invalid item's fields as sent, made fit to store and show (no control characters, bounded). */
export type RefusedFields = Record<CsvColumn, string>;

/** One item of a job in the order submitted: a block to make, or an item refused with its reasons. */
export type BulkEntry =
  { line?: number; item: BulkItemInput } | { line?: number; refused: { fields: RefusedFields; reasons: string } };

/** Items validated between two turns of the event loop: about a millisecond of zod. */
const VALIDATE_BATCH = 200;
/** Problems listed in a 400: enough to act on, bounded for a file where every row is wrong. */
const MAX_LISTED = 1000;
const MAX_STORED_CHARS = 200;

const storable = (value: unknown) =>
  typeof value === "string"
    ? value.replace(new RegExp(CONTROL_CHARS.source, "g"), "\uFFFD").slice(0, MAX_STORED_CHARS)
    : "";

/**
 * Validates items one by one as they are read, yielding the event loop every VALIDATE_BATCH, and
 * keeps each invalid one's problems (a bounded list for the answer, every reason for `skip`).
 */
class Validation {
  readonly entries: BulkEntry[] = [];
  private readonly listed: FieldError[] = [];
  private unlisted = 0;
  private invalid = 0;
  private sinceTurn = 0;
  /** Each block asked for so far, and the item that first asked for it. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly mode: InvalidItems,
    /** How the answer names an item (`line 4`, `items.3`). */
    private readonly name: (index: number, line: number | undefined) => string,
    private readonly what: string,
    /** Where "no items" points: `items`, or the whole `CSV`. */
    private readonly whole: string,
  ) {}

  async add(value: unknown, line?: number): Promise<void> {
    const result = bulkItem.safeParse(value);
    const at = this.name(this.entries.length, line);
    // The same block twice in one job: its items would run side by side and both make it.
    const first = result.success ? this.firstAsking(result.data, at) : undefined;
    if (result.success && !first) {
      this.entries.push({ ...(line !== undefined ? { line } : {}), item: result.data });
    } else {
      const problems = result.success
        ? [{ field: "", message: `is the same block as ${first}: each block once per job` }]
        : result.error.issues.map((issue) => ({
            field: issue.path.map(String).join("."),
            message: describeIssue(issue),
          }));
      for (const p of problems) {
        if (this.listed.length < MAX_LISTED)
          this.listed.push({ path: p.field ? `${at}.${p.field}` : at, message: p.message });
        else this.unlisted += 1;
      }
      this.invalid += 1;
      const raw = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
      const fields = Object.fromEntries(CSV_COLUMNS.map((c) => [c, storable(raw[c])])) as RefusedFields;
      const reasons = problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join("; ");
      this.entries.push({ ...(line !== undefined ? { line } : {}), refused: { fields, reasons } });
    }
    if (++this.sinceTurn >= VALIDATE_BATCH) {
      this.sinceTurn = 0;
      await nextTurn();
    }
  }

  /** The item that already asked for this block, if one did; else remembers `at` as asking for it. */
  private firstAsking(item: BulkItemInput, at: string): string | undefined {
    const key = [
      item.locationId,
      item.calendarId ?? "",
      item.assignedUserId ?? "",
      Date.parse(item.startTime),
      Date.parse(item.endTime),
      item.title ?? "",
    ].join("\u0000");
    const first = this.seen.get(key);
    if (!first) this.seen.set(key, at);
    return first;
  }

  /** The entries to store, or the 400: any invalid item without `skip`; nothing valid to run with it. */
  finish(): BulkEntry[] {
    if (this.entries.length === 0) {
      throw new AppError("invalid_request", `The ${this.what} has no items.`, {
        errors: [{ path: this.whole, message: "give at least one item" }],
      });
    }
    if (this.invalid === 0) return this.entries;
    const valid = this.entries.length - this.invalid;
    if (this.mode === "skip" && valid > 0) return this.entries;
    const paths = [...new Set(this.listed.map((e) => e.path))];
    const named =
      paths.length > 20 ? `${paths.slice(0, 20).join(", ")} and ${paths.length - 20} more` : paths.join(", ");
    const more = this.unlisted > 0 ? ` (${this.unlisted} further problems not listed.)` : "";
    const next =
      this.mode === "skip"
        ? " No item is valid: nothing to run."
        : " Nothing was queued. Fix them, or send ?invalid=skip to run the valid items and get these back as failed items.";
    throw new AppError("invalid_request", `The ${this.what} is invalid: ${named}.${more}${next}`, {
      errors: this.listed,
    });
  }
}

/** The header's problems: a missing required column, an unknown or repeated one. */
function headerProblems(header: string[]): FieldError[] {
  const known = CSV_COLUMNS as readonly string[];
  const problems = [
    ...CSV_COLUMNS.filter((c) => c !== "title" && !header.includes(c)).map((c) => `missing column ${c}`),
    ...header.filter((c) => !known.includes(c)).map((c) => `unknown column ${c.slice(0, 100)}`),
    ...header.filter((c, i) => known.includes(c) && header.indexOf(c) !== i).map((c) => `column ${c} given twice`),
  ];
  return problems.map((message) => ({ path: "line 1", message }));
}

/**
 * A CSV with the header `locationId,calendarId,assignedUserId,startTime,endTime,title` (title
 * optional), read as it arrives. The header, a row of the wrong width, a quote problem or one row
 * past the limit end the reading at once with a 400 naming the line; bad values are collected per
 * line. Lines are the file's own (header = 1; a quoted cell may span lines; blank lines count).
 */
export async function itemsFromCsv(slices: AsyncIterable<Buffer>, mode: InvalidItems): Promise<BulkEntry[]> {
  let header: string[] | undefined;
  let rows = 0;
  const check = (row: CsvRow) => {
    if (!header) {
      const problems = headerProblems(row.cells);
      if (problems.length) {
        throw new AppError("invalid_request", `The CSV header must be: ${CSV_COLUMNS.join(",")}.`, {
          errors: problems,
        });
      }
      header = row.cells;
      return;
    }
    const fail = (message: string) => {
      throw new AppError("invalid_request", `The CSV is invalid at line ${row.line}: ${message}.`, {
        errors: [{ path: `line ${row.line}`, message }],
      });
    };
    if (row.cells.length !== header.length) fail(`has ${row.cells.length} cells, the header has ${header.length}`);
    if (++rows > MAX_ITEMS) fail(`one row too many: at most ${MAX_ITEMS.toLocaleString("en")} rows per job`);
  };

  const validation = new Validation(mode, (_, line) => `line ${line}`, "CSV", "CSV");
  for await (const row of csvRows(slices, check)) {
    if (row.cells === header) continue;
    // An empty cell is an absent field: "exactly one of calendarId or assignedUserId" reads naturally.
    const fields = Object.fromEntries(header!.flatMap((column, i) => (row.cells[i] ? [[column, row.cells[i]]] : [])));
    await validation.add(fields, row.line);
  }
  if (!header) {
    throw new AppError("invalid_request", "The CSV is empty.", {
      errors: [{ path: "line 1", message: `give the header ${CSV_COLUMNS.join(",")}` }],
    });
  }
  return validation.finish();
}

/** `{items: [...]}`, read as it arrives: bad items are named by index (`items.3.endTime`). */
export async function itemsFromJson(slices: AsyncIterable<Buffer>, mode: InvalidItems): Promise<BulkEntry[]> {
  const validation = new Validation(mode, (index) => `items.${index}`, "request body", "items");
  for await (const batch of jsonItems(slices, MAX_ITEMS)) {
    for (const value of batch) await validation.add(value);
  }
  return validation.finish();
}
