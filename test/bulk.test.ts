import { apiAs, installCompany } from "./support/api";
import { bigAgency, itemsFor, waitForJob } from "./support/bulk";
import { startHarness, type Harness } from "./support/harness";

const LOCATIONS = Array.from({ length: 50 }, (_, i) => `loc-${i}`);
const CREATE = { method: "POST", path: "/calendars/events/block-slots" };
const BULK = "/api/block-slots/bulk";

describe("bulk jobs, worked by the queue", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: { companies: [bigAgency(50)] }, jobs: true });
    await installCompany(h, "agency-big");
  });
  afterAll(() => h.close());
  beforeEach(() => h.sandbox.state.resetRequests());

  it("creates 200 block slots over 50 locations and stores every result", async () => {
    const items = itemsFor(LOCATIONS, 200);
    const submitted = await apiAs(h).post(BULK).send({ items }).expect(202);
    expect(submitted.body).toEqual({ id: expect.any(String), status: "queued", total: 200 });
    expect(submitted.headers.location).toBe(`${BULK}/${submitted.body.id}`);

    const job = await waitForJob(h, submitted.body.id);
    expect(job.status).toBe("done");
    expect(job.counts).toEqual({ pending: 0, succeeded: 200, failed: 0, skipped: 0, cancelled: 0 });
    const made = LOCATIONS.flatMap((l) => h.sandbox.state.blockSlots(l));
    expect(made).toHaveLength(200);
    const byId = new Map(made.map((s) => [s.id, s]));
    for (const item of job.items!) {
      const slot = byId.get(item.blockSlotId!);
      expect(slot).toMatchObject({ locationId: items[item.index]!.locationId, title: items[item.index]!.title });
    }
    expect(h.sandbox.state.invalidRequests()).toEqual([]);
  });

  it("fails bad items one by one with their reason and finishes the rest", async () => {
    const items = [
      ...itemsFor(LOCATIONS.slice(0, 5), 10).map((item) => ({ ...item, title: `${item.title} (second job)` })),
      { ...itemsFor(["not-installed"], 1)[0]!, title: "nowhere" },
      { ...itemsFor(["never-heard-of"], 1)[0]!, title: "nowhere either" },
    ];
    h.sandbox.state.failNext(
      CREATE,
      { status: 422, body: { statusCode: 422, message: ["The calendar is closed that day"] } },
      2,
    );
    const { body } = await apiAs(h).post(BULK).send({ items }).expect(202);
    const job = await waitForJob(h, body.id);
    expect(job.status).toBe("done_with_errors");
    expect(job.counts).toEqual({ pending: 0, succeeded: 8, failed: 4, skipped: 0, cancelled: 0 });
    const failed = job.items!.filter((i) => i.status === "failed");
    expect(failed.filter((i) => i.error?.code === "location_not_installed").map((i) => i.index)).toEqual([10, 11]);
    const refused = failed.filter((i) => i.error?.code === "invalid_request");
    expect(refused).toHaveLength(2);
    for (const item of refused) expect(item.error!.detail).toBe("The calendar is closed that day");
    const onlyFailed = await apiAs(h).get(`${BULK}/${body.id}`).query({ items: "failed" }).expect(200);
    expect(onlyFailed.body.items).toHaveLength(4);
  });

  it("retries an item after HighLevel's 5xx and still creates it once", async () => {
    h.sandbox.state.failNext(CREATE, { status: 500, body: { message: "boom" } }, 4);
    const items = itemsFor(["loc-7"], 1);
    const { body } = await apiAs(h).post(BULK).send({ items }).expect(202);
    const job = await waitForJob(h, body.id);
    expect(job.counts.succeeded).toBe(1);
    expect(h.sandbox.state.blockSlots("loc-7").filter((s) => s.title === items[0]!.title)).toHaveLength(1);
  });
});

describe("submitting a bulk job", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: { companies: [bigAgency(3)] } }); // nobody works the queue here
    await installCompany(h, "agency-big");
  });
  afterAll(() => h.close());

  it("rejects the whole request naming every bad item, and stores nothing", async () => {
    const items: Record<string, unknown>[] = itemsFor(["loc-0"], 5);
    items[1] = { ...items[1], endTime: items[1]!.startTime };
    items[3] = { ...items[3], assignedUserId: "u-1" };
    items[4] = { ...items[4], color: "red" };
    // Half a character, as JSON can spell it: PostgreSQL's JSON refuses it (this was a 500).
    items[2] = { ...items[2], title: "Team \ud800 day" };
    const res = await apiAs(h).post(BULK).send({ items }).expect(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      "items.1.endTime",
      "items.2.title",
      "items.3.assignedUserId",
      "items.3.calendarId",
      "items.4",
    ]);
    expect(await h.db.bulkJob.count()).toBe(0);
  });

  it("refuses an empty job and one over 10,000 items", async () => {
    await apiAs(h).post(BULK).send({ items: [] }).expect(400);
    const many = Array.from({ length: 10_001 }, () => itemsFor(["loc-0"], 1)[0]);
    const res = await apiAs(h).post(BULK).send({ items: many }).expect(400);
    expect(res.body.errors[0]).toMatchObject({ path: "items" });
  });

  it("takes a CSV with the same columns", async () => {
    const csv = [
      "locationId,calendarId,assignedUserId,startTime,endTime,title",
      "loc-0,cal-1,,2030-05-01T09:00:00Z,2030-05-01T10:00:00Z,Holiday",
      'loc-1,,user-2,2030-05-01T09:00:00+02:00,2030-05-01T10:00:00+02:00,"Training, all day"',
    ].join("\n");
    const res = await apiAs(h).post(BULK).type("text/csv").send(csv).expect(202);
    expect(res.body).toMatchObject({ status: "queued", total: 2 });
    const items = await h.db.bulkItem.findMany({ where: { jobId: res.body.id }, orderBy: { index: "asc" } });
    expect(items[1]).toMatchObject({
      locationId: "loc-1",
      assignedUserId: "user-2",
      calendarId: null,
      title: "Training, all day",
    });
    expect((await h.db.bulkJob.findUniqueOrThrow({ where: { id: res.body.id } })).source).toBe("csv");
  });

  it("answers 400 naming the line of a malformed CSV row", async () => {
    const csv = [
      "locationId,calendarId,assignedUserId,startTime,endTime,title",
      "loc-0,cal-1,,2030-05-01T09:00:00Z,2030-05-01T10:00:00Z,ok",
      "loc-0,cal-1,,2030-05-01T09:00:00Z,not a time,bad",
      "loc-0,cal-1,,2030-05-01T09:00:00Z",
    ].join("\n");
    const res = await apiAs(h).post(BULK).type("text/csv").send(csv).expect(400);
    expect(res.body.errors).toEqual([{ path: "line 4", message: expect.stringContaining("cells") }]);
    const fixed = csv.split("\n").slice(0, 3).join("\n");
    const res2 = await apiAs(h).post(BULK).type("text/csv").send(fixed).expect(400);
    expect(res2.body.errors).toEqual([{ path: "line 3.endTime", message: expect.any(String) }]);
    const wrongHeader = "location,calendarId,startTime,endTime\nloc-0,cal-1,x,y";
    const res3 = await apiAs(h).post(BULK).type("text/csv").send(wrongHeader).expect(400);
    expect(res3.body.errors.map((e: { message: string }) => e.message)).toEqual(
      expect.arrayContaining(["missing column locationId", "unknown column location"]),
    );
  });

  it("cancels what has not started", async () => {
    const { body } = await apiAs(h)
      .post(BULK)
      .send({ items: itemsFor(["loc-0", "loc-1"], 6) })
      .expect(202);
    const cancelled = await apiAs(h).delete(`${BULK}/${body.id}`).expect(200);
    expect(cancelled.body).toMatchObject({ status: "cancelled", counts: { pending: 0, cancelled: 6 } });
    // Work the queue now, with a job queued after the cancelled one: once it is done, the
    // cancelled job's items have had their chance to run, and none may have reached HighLevel.
    const later = await apiAs(h)
      .post(BULK)
      .send({ items: itemsFor(["loc-2"], 1) })
      .expect(202);
    await h.services.startJobs();
    try {
      await waitForJob(h, later.body.id);
    } finally {
      await h.services.stopJobs();
    }
    const made = ["loc-0", "loc-1"].flatMap((l) => h.sandbox.state.blockSlots(l));
    expect(made.filter((s) => s.title?.startsWith("cancelled"))).toEqual([]);
    expect((await apiAs(h).get(`${BULK}/${body.id}`).expect(200)).body.status).toBe("cancelled");
  });

  it("a cancelled job makes nothing more: an item already waiting for a rate limit is cancelled when it comes back", async () => {
    const { body } = await apiAs(h)
      .post(BULK)
      .send({ items: itemsFor(["loc-2"], 2) })
      .expect(202);
    // Item 0 started and is waiting for the location's rate limit (nothing was made); item 1 was
    // sent once with its answer lost, and HighLevel did make its block.
    const where = (index: number) => ({ jobId_index: { jobId: body.id as string, index } });
    await h.db.bulkItem.update({
      where: where(0),
      data: { startedAt: new Date(), sent: true, errorCode: "rate_limited" },
    });
    const lost = await h.db.bulkItem.findUniqueOrThrow({ where: where(1) });
    const before = h.sandbox.state.blockSlots("loc-2").length;
    const made = await h.services.blockSlots.create(
      "loc-2",
      { calendarId: lost.calendarId!, startTime: lost.startTime, endTime: lost.endTime, title: lost.title! },
      { origin: { origin: "bulk", originId: body.id }, actor: { kind: "bulk_job", id: body.id, name: "api" } },
    );
    await h.db.bulkItem.update({ where: where(1), data: { startedAt: new Date(), sent: true } });
    await apiAs(h).delete(`${BULK}/${body.id}`).expect(200);

    await h.services.bulkWorker.process({ jobId: body.id, index: 0 });
    await h.services.bulkWorker.process({ jobId: body.id, index: 1 });
    const items = await h.db.bulkItem.findMany({ where: { jobId: body.id }, orderBy: { index: "asc" } });
    expect(items.map((i) => [i.status, i.blockSlotId])).toEqual([
      ["cancelled", null],
      ["succeeded", made.id],
    ]);
    expect(h.sandbox.state.blockSlots("loc-2")).toHaveLength(before + 1);
  });

  it("shows a job to the keys of where it acts, and checks every location against the key's scope", async () => {
    const { body } = await apiAs(h)
      .post(BULK)
      .send({ items: itemsFor(["loc-0", "loc-1"], 2) })
      .expect(202);
    // Made with a full-access key, for the agency's sub-accounts: the agency's key reads it too.
    const other = await h.services.apiKeys.create("agency key", { scope: "company", companyId: "agency-big" });
    await apiAs(h, other.key).get(`${BULK}/${body.id}`).expect(200);
    // One sub-account's key does not: the job also acts in another.
    const desk = await h.services.apiKeys.create("front desk", { scope: "location", locationId: "loc-0" });
    await apiAs(h, desk.key).get(`${BULK}/${body.id}`).expect(404);
    await apiAs(h, desk.key).delete(`${BULK}/${body.id}`).expect(404);
    const own = await apiAs(h, desk.key)
      .post(BULK)
      .send({ items: itemsFor(["loc-0"], 1) })
      .expect(202);
    await apiAs(h, desk.key).get(`${BULK}/${own.body.id}`).expect(200);
    await apiAs(h, other.key).get(`${BULK}/${own.body.id}`).expect(200);

    // A full-access job whose refused rows name a location outside the agency is not the agency's:
    // those rows (their titles and times) were meant for someone else.
    const [valid] = itemsFor(["loc-0"], 1);
    const mixed = await apiAs(h)
      .post(`${BULK}?invalid=skip`)
      .send({ items: [valid, { ...valid, locationId: "another-agencys-clinic", endTime: "not a time" }] })
      .expect(202);
    await apiAs(h, other.key).get(`${BULK}/${mixed.body.id}`).expect(404);
    // The agency's own refused rows, typed with its own key, keep its job its own.
    const typo = await apiAs(h, other.key)
      .post(`${BULK}?invalid=skip`)
      .send({ items: [valid, { ...valid, locationId: "loc-0-typo", endTime: "not a time" }] })
      .expect(202);
    await apiAs(h, other.key).get(`${BULK}/${typo.body.id}`).expect(200);
    const res = await apiAs(h, other.key)
      .post(BULK)
      .send({ items: itemsFor(["loc-0", "elsewhere"], 2) })
      .expect(403);
    expect(res.body.detail).toContain("elsewhere");
    await apiAs(h).get(`${BULK}/not-a-job`).expect(404);
    await apiAs(h)
      .get(`${BULK}/${"-".repeat(36)}`)
      .expect(404);
  });
});
