import { BlockLedger, type Origin } from "../src/block-slots/ledger";
import { apiAs, installCompany } from "./support/api";
import { bigAgency, itemsFor, waitForJob } from "./support/bulk";
import { startHarness, type Harness } from "./support/harness";

/**
 * The ledger of blocks the app made: the same block submitted again is found, not made twice,
 * and a block deleted by hand in HighLevel meanwhile is made again.
 */
const LOCATIONS = ["loc-0", "loc-1", "loc-2"];
const BULK = "/api/block-slots/bulk";
const LIST = { method: "GET", path: "/calendars/blocked-slots" };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [bigAgency(3)] }, jobs: true });
  await installCompany(h, "agency-big");
});
afterAll(async () => {
  const invalid = h.sandbox.state.invalidRequests();
  await h.close();
  expect(invalid).toEqual([]);
});

const titled = (title: string, count: number) =>
  itemsFor(LOCATIONS, count).map((item, i) => ({ ...item, title: `${title} ${i}` }));
const made = () => LOCATIONS.flatMap((l) => h.sandbox.state.blockSlots(l));
const FELL_BACK = "audited statement failed; changes made one by one";

describe("the same blocks submitted twice", () => {
  it("skips every block the first job made, naming the existing block", async () => {
    const items = titled("Twice", 6);
    const first = await waitForJob(h, (await apiAs(h).post(BULK).send({ items }).expect(202)).body.id);
    expect(first.counts).toMatchObject({ succeeded: 6, skipped: 0 });
    const before = made().length;

    const second = await waitForJob(h, (await apiAs(h).post(BULK).send({ items }).expect(202)).body.id);
    expect(second.status).toBe("done");
    expect(second.counts).toMatchObject({ succeeded: 0, skipped: 6, failed: 0 });
    expect(second.items!.map((i) => i.blockSlotId)).toEqual(first.items!.map((i) => i.blockSlotId));
    expect(made()).toHaveLength(before);
  });

  it("makes a block again when the first one was deleted in HighLevel meanwhile", async () => {
    const items = titled("Deleted by hand", 2);
    const first = await waitForJob(h, (await apiAs(h).post(BULK).send({ items }).expect(202)).body.id);
    const gone = first.items![0]!.blockSlotId!;
    h.sandbox.state.slots.delete(gone);

    const second = await waitForJob(h, (await apiAs(h).post(BULK).send({ items }).expect(202)).body.id);
    expect(second.items!.map((i) => i.status)).toEqual(["succeeded", "skipped"]);
    expect(second.items![0]!.blockSlotId).not.toBe(gone);
    expect(second.items![1]!.blockSlotId).toBe(first.items![1]!.blockSlotId);
    expect(await h.db.block.findUnique({ where: { blockSlotId: gone } })).toMatchObject({
      deletedAt: expect.any(Date),
    });
  });

  it("a block with another end, title or calendar is a different block", async () => {
    const [base] = titled("Variant", 1);
    await waitForJob(
      h,
      (
        await apiAs(h)
          .post(BULK)
          .send({ items: [base] })
          .expect(202)
      ).body.id,
    );
    const variants = [
      { ...base!, endTime: new Date(Date.parse(base!.endTime) + 60_000).toISOString() },
      { ...base!, title: "Variant 0 (renamed)" },
      { ...base!, calendarId: "cal-2" },
    ];
    const job = await waitForJob(h, (await apiAs(h).post(BULK).send({ items: variants }).expect(202)).body.id);
    expect(job.counts).toMatchObject({ succeeded: 3, skipped: 0 });
  });

  it("a fresh job makes no look-ups in HighLevel", async () => {
    h.sandbox.state.resetRequests();
    await waitForJob(
      h,
      (
        await apiAs(h)
          .post(BULK)
          .send({ items: titled("Fresh", 5) })
          .expect(202)
      ).body.id,
    );
    expect(h.sandbox.state.requests.filter((r) => r.method === LIST.method && r.path === LIST.path)).toEqual([]);
  });
});

describe("a single create with ifExists=skip", () => {
  const SLOTS = "/api/locations/loc-0/block-slots";
  const body = {
    calendarId: "cal-1",
    title: "Only once",
    startTime: "2031-02-03T09:00:00-05:00",
    endTime: "2031-02-03T10:00:00-05:00",
  };

  it("answers 200 with the block already made; without it, a second block is made", async () => {
    const first = await apiAs(h).post(SLOTS).send(body).expect(201);
    const again = await apiAs(h).post(SLOTS).query({ ifExists: "skip" }).send(body).expect(200);
    expect(again.body.id).toBe(first.body.id);
    // The same instants written with another offset are the same block.
    const utc = { ...body, startTime: "2031-02-03T14:00:00Z", endTime: "2031-02-03T15:00:00Z" };
    expect((await apiAs(h).post(SLOTS).query({ ifExists: "skip" }).send(utc).expect(200)).body.id).toBe(first.body.id);
    const second = await apiAs(h).post(SLOTS).send(body).expect(201);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it("refuses another value of ifExists, naming it", async () => {
    const res = await apiAs(h).post(SLOTS).query({ ifExists: "replace" }).send(body).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: "ifExists" })]);
  });

  it("records who made each block", async () => {
    const res = await apiAs(h)
      .post(SLOTS)
      .send({ ...body, title: "Recorded" })
      .expect(201);
    expect(await h.db.block.findUnique({ where: { blockSlotId: res.body.id } })).toMatchObject({
      origin: "api",
      locationId: "loc-0",
      calendarId: "cal-1",
      title: "Recorded",
      deletedAt: null,
    });
  });
});

describe("edits, deletions and records keep the ledger true", () => {
  const SLOTS = "/api/locations/loc-1/block-slots";
  const at = (hour: number, title: string) => ({
    calendarId: "cal-1",
    title,
    startTime: `2031-03-04T${String(hour).padStart(2, "0")}:00:00Z`,
    endTime: `2031-03-04T${String(hour + 1).padStart(2, "0")}:00:00Z`,
  });
  const skip = (body: object) => apiAs(h).post(SLOTS).query({ ifExists: "skip" }).send(body);

  it("finds an edited block at its new time, and leaves the others where they were", async () => {
    const moved = (await apiAs(h).post(SLOTS).send(at(9, "Moved")).expect(201)).body.id as string;
    const other = (await apiAs(h).post(SLOTS).send(at(11, "Untouched")).expect(201)).body.id as string;
    await apiAs(h).put(`${SLOTS}/${moved}`).send(at(14, "Moved")).expect(200);
    expect((await skip(at(14, "Moved")).expect(200)).body.id).toBe(moved);
    expect((await skip(at(11, "Untouched")).expect(200)).body.id).toBe(other);
  });

  it("after one block is deleted, the others are still found, and the deleted one is made again", async () => {
    const gone = (await apiAs(h).post(SLOTS).send(at(16, "Deleted")).expect(201)).body.id as string;
    const kept = (await apiAs(h).post(SLOTS).send(at(18, "Kept")).expect(201)).body.id as string;
    await apiAs(h).delete(`${SLOTS}/${gone}`).expect(204);
    expect((await skip(at(18, "Kept")).expect(200)).body.id).toBe(kept);
    expect((await skip(at(16, "Deleted")).expect(201)).body.id).not.toBe(gone);
  });

  it("knows its own blocks by id: a customer's appointment stays out of reach", async () => {
    await apiAs(h).post(SLOTS).send(at(7, "Ours")).expect(201);
    const appointment = h.sandbox.state.addAppointment({
      locationId: "loc-1",
      calendarId: "cal-1",
      title: "Cleaning with Ms. Jones",
      startTime: "2031-03-05T09:00:00Z",
      endTime: "2031-03-05T10:00:00Z",
    });
    const res = await apiAs(h).delete(`${SLOTS}/${appointment.id}`).expect(409);
    expect(res.body.code).toBe("not_a_block_slot");
    expect(h.sandbox.state.appointments.get(appointment.id)).toBeDefined();
  });

  it("a block of a user's time: another user's is another block, and the audit trail names the user", async () => {
    const user = (assignedUserId: string) => ({ ...at(21, "Away"), calendarId: undefined, assignedUserId });
    const id = (await apiAs(h).post(SLOTS).send(user("user-1")).expect(201)).body.id as string;
    expect((await skip(user("user-1")).expect(200)).body.id).toBe(id);
    expect((await skip(user("user-2")).expect(201)).body.id).not.toBe(id);
    await apiAs(h).delete(`${SLOTS}/${id}`).expect(204);
    const events = (await apiAs(h).get("/api/audit").query({ locationId: "loc-1", limit: 100 }).expect(200)).body
      .events as { action: string; blockSlotId: string }[];
    const place = { calendarId: null, assignedUserId: "user-1" };
    expect(events.find((e) => e.action === "block.created" && e.blockSlotId === id)).toMatchObject(place);
    expect(events.find((e) => e.action === "block.deleted" && e.blockSlotId === id)).toMatchObject(place);
  });

  it("records the bulk job behind each block it made", async () => {
    const job = await waitForJob(
      h,
      (
        await apiAs(h)
          .post(BULK)
          .send({ items: titled("Origin", 2) })
          .expect(202)
      ).body.id,
    );
    for (const item of job.items!) {
      expect(await h.db.block.findUnique({ where: { blockSlotId: item.blockSlotId! } })).toMatchObject({
        origin: "bulk",
        originId: job.id,
      });
    }
  });

  it("writes where each block was made and deleted to the audit trail", async () => {
    const id = (await apiAs(h).post(SLOTS).send(at(20, "Audited")).expect(201)).body.id as string;
    await apiAs(h).delete(`${SLOTS}/${id}`).expect(204);
    const events = (await apiAs(h).get("/api/audit").query({ locationId: "loc-1", limit: 100 }).expect(200)).body
      .events as { action: string; blockSlotId: string }[];
    const place = { locationId: "loc-1", blockSlotId: id, calendarId: "cal-1", assignedUserId: null };
    expect(events.find((e) => e.action === "block.created" && e.blockSlotId === id)).toMatchObject(place);
    expect(events.find((e) => e.action === "block.deleted" && e.blockSlotId === id)).toMatchObject(place);
  });

  it("finds the newest of several equal blocks when the older ones were deleted by hand", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await apiAs(h).post(SLOTS).send(at(22, "Six times")).expect(201)).body.id);
    for (const id of ids.slice(0, 5)) h.sandbox.state.slots.delete(id);
    expect((await skip(at(22, "Six times")).expect(200)).body.id).toBe(ids[5]);
    // The five newest were read: those gone from HighLevel while it still has an equal block are
    // marked gone, the live one is not (the oldest, not read, waits for a later look).
    const rows = await h.db.block.findMany({ where: { blockSlotId: { in: ids } } });
    const gone = rows.filter((r) => r.deletedAt !== null).map((r) => r.blockSlotId);
    expect(gone.sort()).toEqual(ids.slice(1, 5).sort());
  });

  it("records an untitled block with an empty title, as HighLevel shows it, and finds it again", async () => {
    const { title: _title, ...untitled } = at(5, "");
    const id = (await apiAs(h).post(SLOTS).send(untitled).expect(201)).body.id as string;
    expect(await h.db.block.findUnique({ where: { blockSlotId: id } })).toMatchObject({ title: "" });
    expect((await skip(untitled).expect(200)).body.id).toBe(id);
  });

  it("records blocks made at the same moment, each with its own row and audit record", async () => {
    const ledger = new BlockLedger(h.db, h.services.audit);
    const fellBack = h.logs.withMessage(FELL_BACK).length;
    const made = Array.from({ length: 12 }, (_, i) => ({
      locationId: LOCATIONS[i % 3]!,
      id: `together-${i}`,
      body: at(8 + i, `Together ${i}`),
      actor: { kind: "api_key", id: `key-${i}`, name: `Key ${i}` } as const,
    }));
    const record = (m: (typeof made)[number], origin: Origin = { origin: "bulk", originId: "job-1" }) =>
      ledger.record(m.locationId, { id: m.id } as never, m.body, origin, m.actor);
    // The first goes at once, the others wait for it and go together.
    await Promise.all(made.map((m) => record(m)));
    // The same block twice in one go (found again by two retries): recorded, not refused, and
    // still the bulk job's: a block found again keeps the origin it was first recorded with.
    const twice = { ...made[5]!, body: { ...made[5]!.body, title: "Together 5, found again" } };
    const plan = { origin: "plan", originId: "plan-9" } as const;
    await Promise.all([record(made[0]!), record(twice, plan), record(twice, plan)]);

    const rows = await h.db.block.findMany({ where: { blockSlotId: { startsWith: "together-" } } });
    expect(rows).toHaveLength(12);
    for (const m of made) {
      const title = m === made[5] ? twice.body.title : m.body.title;
      expect(rows.find((r) => r.blockSlotId === m.id)).toMatchObject({
        locationId: m.locationId,
        calendarId: "cal-1",
        startAt: new Date(m.body.startTime),
        endAt: new Date(m.body.endTime),
        title,
        origin: "bulk",
        originId: "job-1",
        deletedAt: null,
      });
    }
    // Together in one statement: no fallback to one statement each, which would be logged.
    expect(h.logs.withMessage(FELL_BACK)).toHaveLength(fellBack);
    const records = await h.db.auditEvent.findMany({ where: { blockSlotId: { startsWith: "together-" } } });
    expect(records).toHaveLength(15);
    for (const m of made) {
      expect(records.filter((r) => r.blockSlotId === m.id)).toContainEqual(
        expect.objectContaining({
          action: "block.created",
          actorKind: "api_key",
          actorId: m.actor.id,
          actorName: m.actor.name,
          companyId: "agency-big",
          locationId: m.locationId,
          calendarId: "cal-1",
          outcome: "ok",
        }),
      );
    }
  });

  it("keeps the ledger true when the audit trail cannot be written", async () => {
    // Every audit insert fails (NOT VALID: the rows already there are not checked).
    await h.db.$executeRawUnsafe("ALTER TABLE audit_events ADD CONSTRAINT audit_refused CHECK (false) NOT VALID");
    try {
      const fellBack = h.logs.withMessage(FELL_BACK).length;
      const id = (await apiAs(h).post(SLOTS).send(at(3, "Unaudited")).expect(201)).body.id as string;
      // A statement refused for another reason than the same block twice is the operator's to know.
      expect(h.logs.withMessage(FELL_BACK)).toHaveLength(fellBack + 1);
      expect(await h.db.block.findUnique({ where: { blockSlotId: id } })).toMatchObject({
        title: "Unaudited",
        calendarId: "cal-1",
        origin: "api",
        deletedAt: null,
      });
      // Found again after the ledger had marked it gone (a look-first that finds an earlier attempt's block).
      const ledger = new BlockLedger(h.db, h.services.audit);
      await ledger.deleted(id, { locationId: "loc-1" });
      const slot = h.sandbox.state.slots.get(id)!;
      await ledger.record("loc-1", slot, at(3, "Unaudited"), { origin: "api" }, { kind: "webhook" });
      expect(await h.db.block.findUnique({ where: { blockSlotId: id } })).toMatchObject({ deletedAt: null });
      expect((await skip(at(3, "Unaudited")).expect(200)).body.id).toBe(id);
    } finally {
      await h.db.$executeRawUnsafe("ALTER TABLE audit_events DROP CONSTRAINT audit_refused");
    }
  });
});
