import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import axios from "axios";
import { SingleBar, Presets } from "cli-progress";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";

const USAGE = `Usage:
  npm run bulk -- <slots.csv> [--url http://localhost:3000] [--key <API key>]

The CSV's header: locationId,calendarId,assignedUserId,startTime,endTime,title
The URL and key can also come from APP_URL and API_KEY. Failed rows are written to <slots>.failures.csv.
`;

class UsageError extends Error {}

interface Job {
  id: string;
  status: string;
  total: number;
  counts: { pending: number; succeeded: number; failed: number; cancelled: number };
  items?: { index: number; error?: { code: string; detail: string } }[];
}

/** A problem+json answer as lines an operator can act on. */
function describeProblem(data: unknown, status: number): string {
  const p = (data ?? {}) as { detail?: string; errors?: { path: string; message: string }[] };
  const lines = [`The app answered ${status}: ${p.detail ?? JSON.stringify(data)}`];
  for (const e of p.errors?.slice(0, 50) ?? []) lines.push(`  ${e.path}: ${e.message}`);
  if ((p.errors?.length ?? 0) > 50) lines.push(`  … and ${p.errors!.length - 50} more`);
  return lines.join("\n");
}

/** `npm run bulk -- slots.csv`: submits the file as one durable job and follows it to the end. */
export async function bulkCli(argv: string[], out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      key: { type: "string" },
      "poll-ms": { type: "string" },
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
  const csv = fs.readFileSync(file, "utf8");
  const submitted = await http.post("/api/block-slots/bulk", csv, { headers: { "Content-Type": "text/csv" } });
  if (submitted.status !== 202) {
    out.write(`${describeProblem(submitted.data, submitted.status)}\nNothing was submitted.\n`);
    return 2;
  }
  const { id, total } = submitted.data as Job;
  out.write(`Submitted ${total} block slots as job ${id}.\n`);

  const started = Date.now();
  const bar = new SingleBar(
    {
      format: "  {bar} {percentage}% | {value}/{total} done | {failed} failed | {status}",
      noTTYOutput: true,
      notTTYSchedule: 2000,
      stream: out,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { failed: 0, status: "queued" });
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
    bar.update(total - job.counts.pending, { failed: job.counts.failed, status: job.status });
    if (job.counts.pending === 0) break;
    await sleep(pollMs);
  }
  bar.stop();

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const { succeeded, failed, cancelled } = job.counts;
  out.write(`\n${job.status}: ${succeeded} created, ${failed} failed, ${cancelled} cancelled, in ${seconds} s.\n`);
  if (failed === 0) return 0;

  const failures = (await http.get(`/api/block-slots/bulk/${id}`, { params: { items: "failed" } })).data as Job;
  const rows: string[][] = parse(csv, { bom: true, skip_empty_lines: true, relax_column_count: true });
  const header = rows.shift();
  const report = path.join(path.dirname(file), `${path.basename(file, path.extname(file))}.failures.csv`);
  fs.writeFileSync(
    report,
    stringify([
      ["line", "errorCode", "errorDetail", ...header!],
      ...(failures.items ?? []).map((item) => [
        item.index + 2,
        item.error?.code ?? "",
        item.error?.detail ?? "",
        ...(rows[item.index] ?? []),
      ]),
    ]),
  );
  out.write(`The failed rows and why: ${report}\n`);
  return 1;
}

if (require.main === module) {
  bulkCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
      const why = axios.isAxiosError(err)
        ? `The app could not be reached (${err.code ?? err.message}).`
        : String((err as Error).message ?? err);
      process.stderr.write(`${why}\n${usage ? `\n${USAGE}` : ""}`);
      process.exit(usage ? 2 : 1);
    },
  );
}
