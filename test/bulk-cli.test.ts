import fs from "node:fs";
import type { Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { installCompany } from "./support/api";
import { bigAgency } from "./support/bulk";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { runCli } from "./support/processes";
import { parse } from "csv-parse/sync";

let h: Harness;
let server: Server;
let url: string;
let dir: string;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [bigAgency(3)] }, jobs: true });
  await installCompany(h, "agency-big");
  server = await new Promise((resolve) => {
    const s = h.app.listen(0, "127.0.0.1", () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bulk-cli-"));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await h.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const bulk = (...args: string[]) =>
  runCli("src/cli/bulk.ts", [...args, "--url", url, "--poll-ms", "100"], { ...h.childEnv, API_KEY: TEST_API_KEY });

it("submits a CSV, follows it to the end, and writes the failed rows with their reasons", async () => {
  const file = path.join(dir, "slots.csv");
  fs.writeFileSync(
    file,
    [
      "locationId,calendarId,assignedUserId,startTime,endTime,title",
      "loc-0,cal-1,,2030-06-01T09:00:00Z,2030-06-01T10:00:00Z,Holiday",
      "loc-1,cal-1,,2030-06-01T09:00:00Z,2030-06-01T10:00:00Z,Holiday",
      "loc-gone,cal-1,,2030-06-01T09:00:00Z,2030-06-01T10:00:00Z,Holiday",
    ].join("\n"),
  );
  const run = await bulk(file);
  expect(run.stderr).toBe("");
  expect(run.stdout).toMatch(/Submitted 3 block slots as job [0-9a-f-]{36}/);
  expect(run.stdout).toContain("done_with_errors: 2 created, 1 failed, 0 cancelled");
  // Without a terminal the bar is drawn as lines; each shows the pace and the time left.
  expect(run.stdout).toMatch(/3\/3 done \| [\d.]+\/s \| ETA 0:00 \|/);
  expect(run.stdout).toMatch(/in [\d.]+ s \([\d.]+ items\/s\)/);
  expect(run.code).toBe(1);
  const report = fs.readFileSync(path.join(dir, "slots.failures.csv"), "utf8").trim().split("\n");
  expect(report[0]).toBe("line,errorCode,errorDetail,locationId,calendarId,assignedUserId,startTime,endTime,title");
  expect(report[1]).toMatch(/^4,location_not_installed,.*,loc-gone,cal-1,,/);
  expect(h.sandbox.state.blockSlots("loc-0")).toHaveLength(1);
});

const HEADER = "locationId,calendarId,assignedUserId,startTime,endTime,title";
/**
 * Line numbers as an editor shows them: 1 header · 2 ok · 3–4 ok (a title over two lines) ·
 * 5 bad (calendar and user) · 6 blank · 7 bad (a formula in the title, and no end) · 8 ok
 */
const MIXED = [
  HEADER,
  "loc-0,cal-1,,2030-06-02T09:00:00Z,2030-06-02T10:00:00Z,Morning",
  'loc-1,cal-1,,2030-06-02T09:00:00Z,2030-06-02T10:00:00Z,"Two-line\ntitle"',
  "loc-2,cal-1,user-1,2030-06-02T09:00:00Z,2030-06-02T10:00:00Z,Both",
  "",
  'loc-0,cal-1,,2030-06-02T11:00:00Z,,"=HYPERLINK(""http://evil.example"",""x"")"',
  "loc-1,cal-1,,2030-06-02T11:00:00Z,2030-06-02T12:00:00Z,Noon",
].join("\n");

const readCsv = (file: string): string[][] => parse(fs.readFileSync(file, "utf8"));

it("submits nothing when a row is invalid, and writes each refused row with its line and why", async () => {
  const file = path.join(dir, "mixed.csv");
  fs.writeFileSync(file, MIXED);
  const jobsBefore = await h.db.bulkJob.count();
  const run = await bulk(file);
  expect(run.code).toBe(2);
  expect(run.stdout).toContain("line 5.calendarId: give exactly one of calendarId or assignedUserId");
  expect(run.stdout).toContain("Nothing was submitted.");
  expect(run.stdout).toContain("--skip-invalid runs the valid rows");
  expect(await h.db.bulkJob.count()).toBe(jobsBefore);
  const report = readCsv(path.join(dir, "mixed.failures.csv"));
  expect(report).toEqual([
    ["line", "errorCode", "errorDetail", ...HEADER.split(",")],
    [
      "5",
      "invalid_request",
      "calendarId: give exactly one of calendarId or assignedUserId; assignedUserId: give exactly one of calendarId or assignedUserId",
      ..."loc-2,cal-1,user-1,2030-06-02T09:00:00Z,2030-06-02T10:00:00Z,Both".split(","),
    ],
    [
      "7",
      "invalid_request",
      expect.stringMatching(/^endTime: /),
      "loc-0",
      "cal-1",
      "",
      "2030-06-02T11:00:00Z",
      "",
      // Opened in a spreadsheet, this is text, not a formula.
      `'=HYPERLINK("http://evil.example","x")`,
    ],
  ]);
});

it("with --skip-invalid runs the valid rows and lists the refused ones with the failed ones", async () => {
  const file = path.join(dir, "skip.csv");
  fs.writeFileSync(file, MIXED.replaceAll("loc-1,", "loc-gone,"));
  const run = await bulk(file, "--skip-invalid");
  expect(run.stderr).toBe("");
  expect(run.stdout).toMatch(/Submitted 5 block slots as job/);
  expect(run.stdout).toContain("done_with_errors: 1 created, 4 failed, 0 cancelled");
  expect(run.code).toBe(1);
  const report = readCsv(path.join(dir, "skip.failures.csv"));
  expect(report.slice(1).map(([line, code, , , , , , , title]) => [line, code, title])).toEqual([
    ["3", "location_not_installed", "Two-line\ntitle"],
    ["5", "invalid_request", "Both"],
    ["7", "invalid_request", `'=HYPERLINK("http://evil.example","x")`],
    ["8", "location_not_installed", "Noon"],
  ]);
  const titles = h.sandbox.state.blockSlots("loc-0").map((s) => s.title);
  expect(titles).toContain("Morning");
  expect(titles.some((t) => t?.includes("HYPERLINK"))).toBe(false);
});

it("a file the app cannot read to the end: the row it names, and nothing submitted", async () => {
  const file = path.join(dir, "ragged.csv");
  fs.writeFileSync(
    file,
    [HEADER, "loc-0,cal-1,,2030-06-03T09:00:00Z,2030-06-03T10:00:00Z,ok", "loc-0,cal-1"].join("\n"),
  );
  const run = await bulk(file, "--skip-invalid");
  expect(run.code).toBe(2);
  expect(run.stdout).toContain("line 3: has 2 cells, the header has 6");
  expect(readCsv(path.join(dir, "ragged.failures.csv"))[1]).toEqual([
    "3",
    "invalid_request",
    "has 2 cells, the header has 6",
    "loc-0",
    "cal-1",
    ...Array(4).fill(""),
  ]);
});

it("says what is missing: the file, or the API key", async () => {
  const noFile = await runCli("src/cli/bulk.ts", [path.join(dir, "nope.csv")], h.childEnv);
  expect(noFile.code).toBe(2);
  expect(noFile.stderr).toContain("No such file");
  const file = path.join(dir, "any.csv");
  fs.writeFileSync(file, "locationId,calendarId,assignedUserId,startTime,endTime,title\n");
  const noKey = await runCli("src/cli/bulk.ts", [file], h.childEnv);
  expect(noKey.code).toBe(2);
  expect(noKey.stderr).toContain("An API key is needed");
});
