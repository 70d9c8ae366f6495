/**
 * The bulk worker's claim, lease and resume, driven state by state against real PostgreSQL and
 * the sandbox: what a crash leaves behind is written to the item's row, then the worker is run.
 * (test/bulk-crash.test.ts kills a real server mid-job as well.)
 */
import { apiAs, installCompany } from "./support/api";
import { bigAgency, freshItem, storedItem, submitJob, waitForJob, waitingEntries } from "./support/bulk";
import { startHarness, type Harness } from "./support/harness";
import { CREATE_REQUEST as CREATE } from "./support/sandbox-fixtures";

const LOOK = "/calendars/blocked-slots";

let h: Harness;
const posts = () => h.sandbox.state.count("POST", CREATE.path);
const looks = () => h.sandbox.state.count("GET", LOOK);
const run = (jobId: string, index = 0) => h.services.bulkWorker.process({ jobId, index });
const setItem = (jobId: string, data: Parameters<Harness["db"]["bulkItem"]["update"]>[0]["data"], index = 0) =>
  h.db.bulkItem.update({ where: { jobId_index: { jobId, index } }, data });
const blocksTitled = (title: string) => h.sandbox.state.blockSlots("loc-0").filter((s) => s.title === title);

describe("the bulk worker, state by state", () => {
  beforeAll(async () => {
    h = await startHarness({ sandbox: { companies: [bigAgency(2)] } });
    await installCompany(h, "agency-big");
    // The queue takes re-queued items; nobody works it, so each item runs only when a test says so.
    await h.services.queue.start();
  });
  afterAll(() => h.close());
  beforeEach(() => h.sandbox.state.resetRequests());
  afterEach(() => expect(h.sandbox.state.invalidRequests()).toEqual([]));

  it("creates a fresh item without looking in HighLevel first", async () => {
    const jobId = await submitJob(h, [freshItem()]);
    await run(jobId);
    expect(await storedItem(h, jobId)).toMatchObject({ status: "succeeded", failures: 0, leaseUntil: null });
    expect(posts()).toBe(1);
    expect(looks()).toBe(0);
  });

  it("blocks a user's time for an item with assignedUserId, and an untitled item without a title", async () => {
    const { calendarId: _calendar, title: _title, ...times } = freshItem();
    const jobId = await submitJob(h, [{ ...times, assignedUserId: "user-1" }]);
    await run(jobId);
    const { blockSlotId } = await storedItem(h, jobId);
    const made = h.sandbox.state.blockSlots("loc-0").find((s) => s.id === blockSlotId);
    expect(made).toMatchObject({ assignedUserId: "user-1", startTime: times.startTime });
    expect(made?.calendarId).toBeUndefined();
    expect(made?.title ?? "").toBe("");
  });

  it("never sends a finished, failed or cancelled item again", async () => {
    const done = await submitJob(h, [freshItem()]);
    await run(done);
    const failed = await submitJob(h, [freshItem()]);
    h.sandbox.state.failNext(CREATE, { status: 422, body: { statusCode: 422, message: ["closed that day"] } });
    await run(failed);
    const cancelled = await submitJob(h, [freshItem()]);
    await apiAs(h).delete(`/api/block-slots/bulk/${cancelled}`).expect(200);
    const before = await Promise.all([done, failed, cancelled].map((id) => storedItem(h, id)));
    expect(before.map((i) => i.status)).toEqual(["succeeded", "failed", "cancelled"]);
    h.sandbox.state.resetRequests();

    for (const id of [done, failed, cancelled]) await expect(run(id)).resolves.toBeUndefined();
    expect(h.sandbox.state.requests).toEqual([]);
    expect(await Promise.all([done, failed, cancelled].map((id) => storedItem(h, id)))).toEqual(before);
  });

  it("a second claim while the first worker's lease is live backs off without touching HighLevel", async () => {
    const item = freshItem();
    const jobId = await submitJob(h, [item]);
    h.sandbox.state.latencyMs = 800;
    try {
      const first = run(jobId);
      while (!(await storedItem(h, jobId)).leaseUntil) await new Promise((r) => setTimeout(r, 10));
      await expect(run(jobId)).rejects.toThrow(/held by another worker/);
      await first;
    } finally {
      h.sandbox.state.latencyMs = 0;
    }
    expect(posts()).toBe(1);
    expect(looks()).toBe(0);
    expect(blocksTitled(item.title!)).toHaveLength(1);
  });

  it("an item held under another worker's live lease is given back to be retried, untouched", async () => {
    const jobId = await submitJob(h, [freshItem()]);
    const leaseUntil = new Date(Date.now() + 60_000);
    await setItem(jobId, { sent: true, startedAt: new Date(), leaseUntil });
    await expect(run(jobId)).rejects.toThrow(/held by another worker/);
    expect(h.sandbox.state.requests).toEqual([]);
    expect(await storedItem(h, jobId)).toMatchObject({ status: "pending", failures: 0, leaseUntil });
  });

  it("resumes an item whose worker died after HighLevel made the block: finds it, creates nothing", async () => {
    const item = freshItem();
    const jobId = await submitJob(h, [item]);
    // The dead worker's create went through; its answer, and the worker, were lost.
    const { locationId, ...body } = item;
    const made = await apiAs(h).post(`/api/locations/${locationId}/block-slots`).send(body).expect(201);
    await setItem(jobId, { sent: true, startedAt: new Date(), leaseUntil: new Date(Date.now() - 1000) });
    h.sandbox.state.resetRequests();

    await run(jobId);
    expect(await storedItem(h, jobId)).toMatchObject({ status: "succeeded", blockSlotId: made.body.id });
    expect(looks()).toBe(1);
    expect(posts()).toBe(0);
    expect(blocksTitled(item.title!)).toHaveLength(1);
  });

  it("resumes an item whose worker died before HighLevel made the block: looks, then creates it once", async () => {
    const item = freshItem();
    const jobId = await submitJob(h, [item]);
    await setItem(jobId, { sent: true, startedAt: new Date(), leaseUntil: new Date(Date.now() - 1000) });

    await run(jobId);
    expect(await storedItem(h, jobId)).toMatchObject({ status: "succeeded" });
    expect(looks()).toBe(1);
    expect(posts()).toBe(1);
    expect(blocksTitled(item.title!)).toHaveLength(1);
  });

  it("counts a transient failure and releases the item; the fifth fails it for good with its reason", async () => {
    const item = freshItem();
    const jobId = await submitJob(h, [item]);
    await setItem(jobId, { failures: 3 });
    const down = { status: 503, body: { statusCode: 503, message: "HighLevel is down" } };

    h.sandbox.state.failNext(CREATE, down, 3); // the create and its two re-sends
    await expect(run(jobId)).rejects.toThrow();
    expect(await storedItem(h, jobId)).toMatchObject({
      status: "pending",
      failures: 4,
      errorCode: "upstream_error",
      leaseUntil: null,
    });

    h.sandbox.state.failNext(CREATE, down, 3);
    await expect(run(jobId)).resolves.toBeUndefined();
    expect(await storedItem(h, jobId)).toMatchObject({
      status: "failed",
      failures: 5,
      errorCode: "upstream_error",
      errorDetail: expect.stringContaining("HighLevel is down"),
    });
    expect(blocksTitled(item.title!)).toHaveLength(0);
  });

  it("fails an item HighLevel refuses at once, without retrying it", async () => {
    const jobId = await submitJob(h, [freshItem()]);
    h.sandbox.state.failNext(CREATE, { status: 422, body: { statusCode: 422, message: ["closed that day"] } });
    await expect(run(jobId)).resolves.toBeUndefined();
    expect(await storedItem(h, jobId)).toMatchObject({
      status: "failed",
      failures: 1,
      errorCode: "invalid_request",
      errorDetail: "closed that day",
    });
    expect(posts()).toBe(1);
  });

  it("puts a rate-limited item back on the queue for when HighLevel says, without counting a failure", async () => {
    const item = freshItem();
    const jobId = await submitJob(h, [item]);
    h.sandbox.state.failNext(CREATE, {
      status: 429,
      headers: { "Retry-After": "30" },
      body: { statusCode: 429, message: "Too many requests" },
    });
    const before = await waitingEntries(h, jobId);
    await expect(run(jobId)).resolves.toBeUndefined();
    expect(await storedItem(h, jobId)).toMatchObject({
      status: "pending",
      failures: 0,
      // Still pending, saying what it waits for (the job's view shows it).
      errorCode: "rate_limited",
      leaseUntil: null,
    });
    const after = await waitingEntries(h, jobId);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)!.startAfter.getTime()).toBeGreaterThan(Date.now() + 25_000);

    // Released, not held: the re-queued entry (run early here) creates the block.
    await run(jobId);
    expect(blocksTitled(item.title!)).toHaveLength(1);
  });
});

describe("a held item, worked by the queue", () => {
  beforeAll(async () => {
    h = await startHarness({ sandbox: { companies: [bigAgency(1)] }, env: { JOB_TIMEOUT_SECONDS: "5" } });
    await installCompany(h, "agency-big");
  });
  afterAll(() => h.close());

  it("is retried once the holder's lease runs out, not dropped", async () => {
    const item = freshItem();
    const jobId = await submitJob(h, [item]);
    await setItem(jobId, { sent: true, startedAt: new Date(), leaseUntil: new Date(Date.now() + 2000) });
    await h.services.startJobs();
    try {
      const job = await waitForJob(h, jobId, (j) => j.counts.pending === 0, 20_000);
      expect(job.status).toBe("done");
    } finally {
      await h.services.stopJobs();
    }
    expect(blocksTitled(item.title!)).toHaveLength(1);
  });
});
