import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import axios from "axios";
import { SingleBar, Presets } from "cli-progress";
import { csvRows, type CsvRow } from "../bulk/csv-rows";
import { csvText } from "../util/csv";
import { exitCode, UsageError } from "./usage";

const USAGE = `Usage:
  npm run bulk -- <slots.csv> [--url http://localhost:3000] [--key <API key>] [--skip-invalid]

The CSV's header: locationId,calendarId,assignedUserId,startTime,endTime,title
The URL and key can also come from APP_URL and API_KEY.
By default a file with an invalid row is not submitted at all; --skip-invalid runs the valid rows.
Rows that failed or were refused, with the reason, are written to <slots>.failures.csv.
`;

interface Job {
  id: string;
  status: string;
  total: number;
  counts: { pending: number; succeeded: number; failed: number; cancelled: number };
  items?: { index: number; line?: number; error?: { code: string; detail: string } }[];
}

interface Problem {
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** A problem+json answer as lines an operator can act on. */
function describeProblem(data: unknown, status: number): string {
  const p = (data ?? {}) as Problem;
  const lines = [`The app answered ${status}: ${p.detail ?? JSON.stringify(data)}`];
  for (const e of p.errors?.slice(0, 50) ?? []) lines.push(`  ${e.path}: ${e.message}`);
  if ((p.errors?.length ?? 0) > 50) lines.push(`  … and ${p.errors!.length - 50} more`);
  return lines.join("\n");
}

/**
 * The file's rows by line, numbered as the app numbers them (the same reader). A file the app
 * refused for its structure is read as far as it can be.
 */
async function rowsByLine(file: string): Promise<{ header: string[]; byLine: Map<number, string[]> }> {
  const rows: CsvRow[] = [];
  try {
    for await (const row of csvRows(fs.createReadStream(file))) rows.push(row);
  } catch {
    // What was read before the problem is still worth showing.
  }
  const [header, ...data] = rows;
  return { header: header?.cells ?? [], byLine: new Map(data.map((r) => [r.line, r.cells])) };
}

/** Writes `<file>.failures.csv`: line, errorCode, errorDetail and the row's cells as in the file. */
async function writeFailures(file: string, failures: { line?: number; code: string; detail: string }[]) {
  const { header, byLine } = await rowsByLine(file);
  const report = path.join(path.dirname(file), `${path.basename(file, path.extname(file))}.failures.csv`);
  fs.writeFileSync(
    report,
    csvText([
      ["line", "errorCode", "errorDetail", ...header],
      ...failures.map((f) => {
        const cells = f.line === 1 ? header : (byLine.get(f.line ?? 0) ?? []);
        // A short row is padded so the report stays a table; a long one keeps its extra cells.
        return [
          f.line ?? "",
          f.code,
          f.detail,
          ...cells,
          ...Array<string>(Math.max(0, header.length - cells.length)).fill(""),
        ];
      }),
    ]),
  );
  return report;
}

/** A 400's problems grouped by the line they name (`line 4.endTime`, `line 4`), in line order. */
function problemsByLine(problem: Problem): { line: number; code: string; detail: string }[] {
  const byLine = new Map<number, string[]>();
  for (const e of problem.errors ?? []) {
    const match = /^line (\d+)(?:\.(.+))?$/.exec(e.path);
    if (!match) continue;
    const line = Number(match[1]);
    byLine.set(line, [...(byLine.get(line) ?? []), match[2] ? `${match[2]}: ${e.message}` : e.message]);
  }
  return [...byLine]
    .sort(([a], [b]) => a - b)
    .map(([line, reasons]) => ({ line, code: "invalid_request", detail: reasons.join("; ") }));
}

/** `npm run bulk -- slots.csv`: submits the file as one durable job and follows it to the end. */
/**
 * Items per second since the job was submitted, and the time left at that pace (m:ss). From the whole
 * run rather than the last poll: items finish in bursts (a batch per worker loop), and a rate
 * from one poll to the next would jump about.
 */
export function pace(
  done: number,
  total: number,
  startedAt: number,
  now = Date.now(),
): { perSecond: string; left: string } {
  const seconds = (now - startedAt) / 1000;
  const perSecond = seconds > 0 ? done / seconds : 0;
  if (perSecond === 0) return { perSecond: "0", left: "--:--" };
  const left = Math.ceil((total - done) / perSecond);
  return {
    perSecond: perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(1),
    // Not cli-progress's own {eta}: that one counts from the bar's start, not the job's.
    left: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`,
  };
}

export async function bulkCli(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      key: { type: "string" },
      "poll-ms": { type: "string" },
      "skip-invalid": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!file) throw new UsageError("Say which CSV file to submit.");
  if (!fs.existsSync(file)) throw new UsageError(`No such file: ${file}`);
  const key = values.key ?? process.env.API_KEY;
  if (!key) throw new UsageError("An API key is needed: --key <key> or API_KEY.");
  const baseURL = (values.url ?? process.env.APP_URL ?? "http://localhost:3000").replace(/\/$/, "");
  const pollMs = Number(values["poll-ms"] ?? 500);

  const http = axios.create({
    baseURL,
    headers: { Authorization: `Bearer ${key}` },
    validateStatus: () => true,
    timeout: 60_000,
  });
  const submitted = await http.post("/api/block-slots/bulk", fs.readFileSync(file), {
    headers: { "Content-Type": "text/csv" },
    params: values["skip-invalid"] ? { invalid: "skip" } : {},
  });
  if (submitted.status !== 202) {
    out.write(`${describeProblem(submitted.data, submitted.status)}\nNothing was submitted.\n`);
    const refused = submitted.status === 400 ? problemsByLine(submitted.data as Problem) : [];
    if (refused.length) {
      const report = await writeFailures(file, refused);
      out.write(
        `The refused rows and why: ${report}${values["skip-invalid"] ? "" : " (--skip-invalid runs the valid rows)"}\n`,
      );
    }
    return 2;
  }
  const { id, total } = submitted.data as Job;
  out.write(`Submitted ${total} block slots as job ${id}.\n`);

  const started = Date.now();
  const bar = new SingleBar(
    {
      format: "  {bar} {percentage}% | {value}/{total} done | {perSecond}/s | ETA {left} | {failed} failed | {status}",
      noTTYOutput: true,
      notTTYSchedule: 2000,
      stream: out,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { failed: 0, status: "queued", ...pace(0, total, started) });
  let job: Job;
  for (;;) {
    const res = await http.get(`/api/block-slots/bulk/${id}`, { params: { items: "none" } });
    if (res.status !== 200) {
      bar.stop();
      out.write(
        `${describeProblem(res.data, res.status)}\nThe job continues on the server: GET /api/block-slots/bulk/${id}\n`,
      );
      return 1;
    }
    job = res.data as Job;
    const done = total - job.counts.pending;
    bar.update(done, { failed: job.counts.failed, status: job.status, ...pace(done, total, started) });
    if (job.counts.pending === 0) break;
    await sleep(pollMs);
  }
  bar.stop();

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const { succeeded, failed, cancelled } = job.counts;
  const { perSecond } = pace(total, total, started);
  out.write(
    `\n${job.status}: ${succeeded} created, ${failed} failed, ${cancelled} cancelled, in ${seconds} s (${perSecond} items/s).\n`,
  );
  if (failed === 0) return 0;

  const failures = (await http.get(`/api/block-slots/bulk/${id}`, { params: { items: "failed" } })).data as Job;
  const report = await writeFailures(
    file,
    (failures.items ?? []).map((item) => ({
      ...(item.line !== undefined ? { line: item.line } : {}),
      code: item.error?.code ?? "",
      detail: item.error?.detail ?? "",
    })),
  );
  out.write(`The failed rows and why: ${report}\n`);
  return 1;
}

if (require.main === module) {
  void exitCode(
    () => bulkCli(process.argv.slice(2)),
    USAGE,
    process.stderr,
    (err) =>
      axios.isAxiosError(err)
        ? `The app could not be reached (${err.code ?? err.message}).`
        : String((err as Error).message ?? err),
  ).then((code) => process.exit(code));
}
