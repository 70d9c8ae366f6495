import fs from "node:fs";
import type { Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { installCompany } from "./support/api";
import { bigAgency } from "./support/bulk";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { runCli } from "./support/processes";

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
  expect(run.code).toBe(1);
  const report = fs.readFileSync(path.join(dir, "slots.failures.csv"), "utf8").trim().split("\n");
  expect(report[0]).toBe("line,errorCode,errorDetail,locationId,calendarId,assignedUserId,startTime,endTime,title");
  expect(report[1]).toMatch(/^4,location_not_installed,.*,loc-gone,cal-1,,/);
  expect(h.sandbox.state.blockSlots("loc-0")).toHaveLength(1);
});

it("submits nothing and explains each bad row when the CSV is invalid", async () => {
  const file = path.join(dir, "bad.csv");
  fs.writeFileSync(
    file,
    "locationId,calendarId,assignedUserId,startTime,endTime,title\nloc-0,cal-1,user-1,2030-06-01T09:00:00Z,2030-06-01T10:00:00Z,x\n",
  );
  const run = await bulk(file);
  expect(run.code).toBe(2);
  expect(run.stdout).toContain("line 2.calendarId: give exactly one of calendarId or assignedUserId");
  expect(run.stdout).toContain("Nothing was submitted.");
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
