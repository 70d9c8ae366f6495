import { apiAs, installCompany } from "./support/api";
import { bigAgency, waitForJob } from "./support/bulk";
import { startHarness, type Harness } from "./support/harness";

const BULK = "/api/block-slots/bulk";
const HEADER = "locationId,calendarId,assignedUserId,startTime,endTime,title";
const row = (location: string, hour: number, title: string, calendar = "cal-1") =>
  `${location},${calendar},,2030-07-01T${String(hour).padStart(2, "0")}:00:00Z,2030-07-01T${String(hour).padStart(2, "0")}:30:00Z,${title}`;

/**
 * A file as people make them: a quoted title over three lines, a blank line, CRLF endings. Its
 * line numbers, as an editor shows them:
 *   1 header · 2 ok · 3–5 ok (quoted title over three lines) · 6 blank · 7 bad (both calendar and user)
 *   8 ok · 9 bad (end before start) · 10 ok
 */
const MIXED = [
  HEADER,
  row("loc-0", 9, "Morning"),
  row("loc-1", 10, '"Team day:\r\nall hands,\r\nbring lunch"'),
  "",
  "loc-2,cal-1,user-1,2030-07-01T11:00:00Z,2030-07-01T12:00:00Z,Both",
  row("loc-0", 12, "Noon"),
  "loc-1,cal-1,,2030-07-01T14:00:00Z,2030-07-01T13:00:00Z,Backwards",
  row("loc-2", 15, "Afternoon"),
].join("\r\n");

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [bigAgency(3)] }, jobs: true });
  await installCompany(h, "agency-big");
});
afterAll(() => h.close());

const post = (body: string, query: Record<string, string> = {}) =>
  apiAs(h).post(BULK).query(query).type("text/csv").send(body);

it("by default refuses a file with invalid rows, naming each by its line in the file, and stores nothing", async () => {
  const jobsBefore = await h.db.bulkJob.count();
  const res = await post(MIXED).expect(400);
  expect(res.headers["content-type"]).toContain("application/problem+json");
  expect(res.body.errors).toEqual([
    { path: "line 7.calendarId", message: "give exactly one of calendarId or assignedUserId" },
    { path: "line 7.assignedUserId", message: "give exactly one of calendarId or assignedUserId" },
    { path: "line 9.endTime", message: "must be after startTime" },
  ]);
  expect(res.body.detail).toContain("?invalid=skip");
  expect(await h.db.bulkJob.count()).toBe(jobsBefore);
});

it("with ?invalid=skip runs the valid rows and reports the invalid ones as failed items with their line", async () => {
  const res = await post(MIXED, { invalid: "skip" }).expect(202);
  expect(res.body).toMatchObject({ status: "queued", total: 6 });
  const job = await waitForJob(h, res.body.id);
  expect(job).toMatchObject({ status: "done_with_errors", counts: { succeeded: 4, failed: 2, pending: 0 } });
  expect(job.items!.map((i) => [i.index, i.line, i.status])).toEqual([
    [0, 2, "succeeded"],
    [1, 3, "succeeded"],
    [2, 7, "failed"],
    [3, 8, "succeeded"],
    [4, 9, "failed"],
    [5, 10, "succeeded"],
  ]);
  expect(job.items![2]!.error).toEqual({
    code: "invalid_request",
    detail:
      "calendarId: give exactly one of calendarId or assignedUserId; assignedUserId: give exactly one of calendarId or assignedUserId",
  });
  expect(job.items![4]!.error).toEqual({ code: "invalid_request", detail: "endTime: must be after startTime" });
  // The refused rows never reached HighLevel; the multi-line title arrived whole.
  const titles = ["loc-0", "loc-1", "loc-2"].flatMap((l) => h.sandbox.state.blockSlots(l)).map((s) => s.title);
  expect(titles).not.toContain("Both");
  expect(titles).not.toContain("Backwards");
  expect(titles).toContain("Team day:\r\nall hands,\r\nbring lunch");
  expect(h.sandbox.state.invalidRequests()).toEqual([]);
});

it("refuses a file where no row is valid, even with ?invalid=skip: there is nothing to run", async () => {
  const jobsBefore = await h.db.bulkJob.count();
  const res = await post([HEADER, row("loc-0", 9, "x", "")].join("\n"), { invalid: "skip" }).expect(400);
  expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(["line 2.calendarId", "line 2.assignedUserId"]);
  expect(res.body.detail).toContain("nothing to run");
  expect(await h.db.bulkJob.count()).toBe(jobsBefore);
});

it("a row of the wrong width stops the file at that line, even with ?invalid=skip", async () => {
  const csv = [HEADER, row("loc-0", 9, "ok"), "loc-0,cal-1", row("loc-0", 10, "ok")].join("\n");
  const res = await post(csv, { invalid: "skip" }).expect(400);
  expect(res.body.errors).toEqual([{ path: "line 3", message: "has 2 cells, the header has 6" }]);
});

it("JSON items take ?invalid=skip too: the invalid ones are failed items named by index, with no line", async () => {
  const ok = {
    locationId: "loc-0",
    calendarId: "cal-1",
    startTime: "2030-07-02T09:00:00Z",
    endTime: "2030-07-02T10:00:00Z",
  };
  const items = [ok, { ...ok, color: "red" }, { ...ok, startTime: "tomorrow" }];
  const refused = await apiAs(h).post(BULK).send({ items }).expect(400);
  expect(refused.body.errors.map((e: { path: string }) => e.path)).toEqual(["items.1", "items.2.startTime"]);

  const res = await apiAs(h).post(BULK).query({ invalid: "skip" }).send({ items }).expect(202);
  const job = await waitForJob(h, res.body.id);
  expect(job.counts).toMatchObject({ succeeded: 1, failed: 2 });
  expect(job.items![1]).toEqual({
    index: 1,
    locationId: "loc-0",
    status: "failed",
    error: { code: "invalid_request", detail: "unknown field: color" },
  });
  expect(job.items![2]!.error!.detail).toMatch(/^startTime: must be an ISO-8601 date-time/);
});

it("refuses an unknown ?invalid= value", async () => {
  const res = await post([HEADER, row("loc-0", 9, "x")].join("\n"), { invalid: "ignore" }).expect(400);
  expect(res.body.errors[0].path).toBe("invalid");
});

it("names a row that repeats an earlier row's block, and with ?invalid=skip makes that block once", async () => {
  // The same block twice (the second written with another offset): side by side, both would make it.
  const twice = [
    HEADER,
    row("loc-1", 16, "Twice"),
    row("loc-1", 17, "Once"),
    "loc-1,cal-1,,2030-07-01T18:00:00+02:00,2030-07-01T18:30:00+02:00,Twice",
  ].join("\n");
  const refused = await post(twice).expect(400);
  expect(refused.body.errors).toEqual([
    { path: "line 4", message: "is the same block as line 2: each block once per job" },
  ]);
  const res = await post(twice, { invalid: "skip" }).expect(202);
  const job = await waitForJob(h, res.body.id);
  expect(job.items!.map((i) => [i.line, i.status])).toEqual([
    [2, "succeeded"],
    [3, "succeeded"],
    [4, "failed"],
  ]);
  expect(h.sandbox.state.blockSlots("loc-1").filter((s) => s.title === "Twice")).toHaveLength(1);
});
