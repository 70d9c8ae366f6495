import { apiAs, installCompany, installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { CLINICS } from "./support/plans";
import { CREATE_REQUEST as CREATE, SOLO, SOLO_SLOT, SOLO_SLOTS as SLOTS } from "./support/sandbox-fixtures";

/**
 * What a single block's create or delete leaves behind besides HighLevel's answer: the count of
 * blocks made (dashboard and /metrics), the audit trail's failures, and the ledger of blocks.
 */
const LOOK = { method: "GET", path: "/calendars/blocked-slots" };
const DELETE = { method: "DELETE", path: "/calendars/events" };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [SOLO, CLINICS] } });
  await installLocation(h, "loc-solo");
});
afterAll(async () => {
  const invalid = h.sandbox.state.invalidRequests();
  await h.close();
  expect(invalid).toEqual([]);
});
beforeEach(() => h.sandbox.state.resetRequests());

let hour = 0;
/** A block of its own for each call: no test finds another's. */
const slot = (title: string) => {
  hour++;
  const day = `2030-06-${String(1 + Math.floor(hour / 20)).padStart(2, "0")}`;
  const at = (h: number) => `${day}T${String(h).padStart(2, "0")}:00:00Z`;
  return { ...SOLO_SLOT, title, startTime: at(hour % 20), endTime: at((hour % 20) + 1) };
};
const blocksCounted = async () =>
  (await h.services.metrics.blocksCreated.get()).values
    .filter((v) => v.labels.origin === "api")
    .reduce((sum, v) => sum + v.value, 0);
const failures = async () =>
  (await apiAs(h).get("/api/audit").query({ locationId: "loc-solo", limit: 100 }).expect(200)).body.events.filter(
    (e: { outcome: string }) => e.outcome === "failed",
  ) as { action: string; errorCode: string }[];

describe("creating a block", () => {
  it("sends it at once, without looking in HighLevel first", async () => {
    await apiAs(h).post(SLOTS).send(slot("Plain")).expect(201);
    expect(h.sandbox.state.count(CREATE.method, CREATE.path)).toBe(1);
    expect(h.sandbox.state.count(LOOK.method, LOOK.path)).toBe(0);
  });

  it("counts a block HighLevel made once, and not again when a lost answer's block is found", async () => {
    const before = await blocksCounted();
    await apiAs(h).post(SLOTS).send(slot("Counted")).expect(201);
    expect(await blocksCounted()).toBe(before + 1);

    // HighLevel makes the block and the answer is lost: the app looks, finds it, and does not re-send.
    h.sandbox.state.failNext(CREATE, { drop: "after" });
    const found = await apiAs(h).post(SLOTS).send(slot("Answer lost")).expect(201);
    expect(h.sandbox.state.count(CREATE.method, CREATE.path)).toBe(2);
    expect(h.sandbox.state.slots.has(found.body.id)).toBe(true);
    expect(await blocksCounted()).toBe(before + 1);
  });

  it("records a create HighLevel refused in the audit trail, with its code", async () => {
    const before = (await failures()).length;
    h.sandbox.state.failNext(CREATE, { status: 422, body: { statusCode: 422, message: ["closed that day"] } });
    await apiAs(h).post(SLOTS).send(slot("Refused")).expect(422);
    const after = await failures();
    expect(after).toHaveLength(before + 1);
    expect(after[0]).toMatchObject({ action: "block.created", errorCode: "invalid_request", calendarId: "cal-1" });
  });

  it("records a refused create of a user's time with that user", async () => {
    const before = (await failures()).length;
    const { calendarId: _calendar, ...body } = slot("Refused for a user");
    h.sandbox.state.failNext(CREATE, { status: 422, body: { statusCode: 422, message: ["on leave"] } });
    await apiAs(h)
      .post(SLOTS)
      .send({ ...body, assignedUserId: "user-7" })
      .expect(422);
    const after = await failures();
    expect(after).toHaveLength(before + 1);
    expect(after[0]).toMatchObject({ action: "block.created", assignedUserId: "user-7", calendarId: null });
  });
});

describe("creating a block only if it is not there (ifExists=skip)", () => {
  it("finds it every time, and looks again after a HighLevel 5xx", async () => {
    const body = slot("Skip me");
    const id = (await apiAs(h).post(SLOTS).send(body).expect(201)).body.id as string;
    for (let i = 0; i < 2; i++) {
      expect((await apiAs(h).post(SLOTS).query({ ifExists: "skip" }).send(body).expect(200)).body.id).toBe(id);
    }
    h.sandbox.state.failNext(LOOK, { status: 503, body: { message: "down" } });
    expect((await apiAs(h).post(SLOTS).query({ ifExists: "skip" }).send(body).expect(200)).body.id).toBe(id);
    expect(h.sandbox.state.count(CREATE.method, CREATE.path)).toBe(1);
    expect(await h.db.block.findUnique({ where: { blockSlotId: id } })).toMatchObject({ deletedAt: null });
  });
});

describe("deleting a block", () => {
  it("marks a block deleted by hand in HighLevel as gone from the ledger: 404, and made again on request", async () => {
    const body = slot("Deleted by hand");
    const id = (await apiAs(h).post(SLOTS).send(body).expect(201)).body.id as string;
    h.sandbox.state.slots.delete(id);
    await apiAs(h).delete(`${SLOTS}/${id}`).expect(404);
    expect(await h.db.block.findUnique({ where: { blockSlotId: id } })).toMatchObject({ deletedAt: expect.any(Date) });
    const again = await apiAs(h).post(SLOTS).query({ ifExists: "skip" }).send(body).expect(201);
    expect(again.body.id).not.toBe(id);
  });

  it("keeps a block live in the ledger when HighLevel failed to delete it: it is still found, not made twice", async () => {
    const body = slot("Still there");
    const id = (await apiAs(h).post(SLOTS).send(body).expect(201)).body.id as string;
    h.sandbox.state.failNext(DELETE, { status: 503, body: { message: "down" } }, 10);
    const res = await apiAs(h).delete(`${SLOTS}/${id}`);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(await h.db.block.findUnique({ where: { blockSlotId: id } })).toMatchObject({ deletedAt: null });
    h.sandbox.state.resetRequests();
    expect((await apiAs(h).post(SLOTS).query({ ifExists: "skip" }).send(body).expect(200)).body.id).toBe(id);
    expect(h.sandbox.state.count(CREATE.method, CREATE.path)).toBe(0);
  });
});

describe("reading", () => {
  it("lists a user's blocks by user, not the calendar's", async () => {
    const { calendarId: _calendar, ...times } = slot("Away");
    const mine = (
      await apiAs(h)
        .post(SLOTS)
        .send({ ...times, assignedUserId: "user-1" })
        .expect(201)
    ).body.id;
    const window = { startTime: times.startTime, endTime: times.endTime };
    const byUser = await apiAs(h)
      .get(SLOTS)
      .query({ ...window, userId: "user-1" })
      .expect(200);
    expect(byUser.body.blockSlots.map((b: { id: string }) => b.id)).toEqual([mine]);
    expect(h.sandbox.state.requests.find((r) => r.method === "GET" && r.path === LOOK.path)?.query).toMatchObject({
      userId: "user-1",
    });
  });

  it("retries reading calendars and events after a HighLevel 5xx: a plan's preview still answers", async () => {
    await installCompany(h, CLINICS.id);
    h.sandbox.state.resetRequests();
    const down = { status: 503, body: { message: "down" } };
    h.sandbox.state.failNext({ method: "GET", path: "/calendars/" }, down);
    h.sandbox.state.failNext({ method: "GET", path: "/calendars/events" }, down);
    const res = await apiAs(h)
      .post("/api/block-plans/preview")
      .send({
        title: "Closed",
        targets: [{ locationId: "clinic-ny", calendars: "all" }],
        schedule: { start: "2030-07-01T09:00", end: "2030-07-01T17:00" },
      })
      .expect(200);
    expect(res.body.total).toBe(2); // both of the clinic's calendars
    expect(h.sandbox.state.requests.filter((r) => r.status === 503)).toHaveLength(2);
  });
});

// Last: HighLevel's "wait 60 s" holds every later call to this location.
describe("a create HighLevel rate-limited", () => {
  it("is not recorded as a failure: the caller retries it, and its outcome is recorded then", async () => {
    const before = (await failures()).length;
    h.sandbox.state.failNext(CREATE, { status: 429, headers: { "Retry-After": "60" }, body: {} });
    await apiAs(h).post(SLOTS).send(slot("Limited")).expect(429);
    expect(await failures()).toHaveLength(before);
  });
});
