import request from "supertest";
import { apiAs, installCompany, installLocation } from "./support/api";
import { waitForJob } from "./support/bulk";
import { startHarness, type Harness } from "./support/harness";
import { spawnTs, waitForLine } from "./support/processes";
import { AGENCY, SOLO, withCalendars } from "./support/sandbox-fixtures";
import { deliver, event, processed, webhookSigners } from "./support/webhooks";

const signers = webhookSigners();
const RULE = {
  name: "Dr. Lee works at both clinics",
  source: { locationId: "loc-a", calendarId: "cal-1" },
  targets: [
    { locationId: "loc-b", calendarId: "cal-2" },
    { locationId: "loc-solo", assignedUserId: "user-9" },
  ],
};
const TIMES = { startTime: "2030-07-01T09:00:00+02:00", endTime: "2030-07-01T10:00:00+02:00" };
const MOVED = { startTime: "2030-07-02T14:00:00+02:00", endTime: "2030-07-02T15:30:00+02:00" };

const appointment = (type: string, id: string, extra: Record<string, unknown> = {}) =>
  event({
    type,
    locationId: "loc-a",
    appointment: {
      id,
      calendarId: "cal-1",
      title: "Check-up",
      appointmentStatus: "confirmed",
      contactId: "c-1",
      ...TIMES,
      ...extra,
    },
  });

async function setUp(jobs: boolean): Promise<Harness> {
  const h = await startHarness({
    sandbox: { companies: [withCalendars(AGENCY, { "loc-a": ["cal-1", "cal-other"], "loc-b": ["cal-2"] }), SOLO] },
    env: signers.env,
    jobs,
  });
  await installCompany(h, "agency-1");
  await installLocation(h, "loc-solo");
  return h;
}
const targets = (h: Harness) => [...h.sandbox.state.blockSlots("loc-b"), ...h.sandbox.state.blockSlots("loc-solo")];

describe("blocking rules and the appointments they follow", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await setUp(true);
  });
  afterEach(async () => {
    const invalid = h.sandbox.state.invalidRequests();
    await h.close();
    expect(invalid).toEqual([]);
  });

  it("keeps rules: create, list, delete; refuses a target equal to its source", async () => {
    const created = await apiAs(h).post("/api/blocking-rules").send(RULE).expect(201);
    expect(created.body).toMatchObject({ id: expect.any(String), ...RULE });
    expect((await apiAs(h).get("/api/blocking-rules").expect(200)).body.rules).toHaveLength(1);

    const bad = await apiAs(h)
      .post("/api/blocking-rules")
      .send({
        source: RULE.source,
        targets: [RULE.source, { locationId: "loc-b", calendarId: "x", assignedUserId: "y" }],
      })
      .expect(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      "targets.0",
      "targets.1.assignedUserId",
      "targets.1.calendarId",
    ]);
    const solo = await h.services.apiKeys.create("solo", { scope: "location", locationId: "loc-solo" });
    await apiAs(h, solo.key).post("/api/blocking-rules").send(RULE).expect(403);

    await apiAs(h).delete(`/api/blocking-rules/${created.body.id}`).expect(204);
    await apiAs(h).delete(`/api/blocking-rules/${created.body.id}`).expect(404);
  });

  it("refuses a rule on a sub-account or calendar that does not exist, naming the field, and stores nothing", async () => {
    const noLocation = await apiAs(h)
      .post("/api/blocking-rules")
      .send({ ...RULE, targets: [{ locationId: "loc-nowhere", calendarId: "cal-2" }] })
      .expect(404);
    expect(noLocation.headers["content-type"]).toContain("application/problem+json");
    expect(noLocation.body.code).toBe("location_not_installed");
    expect(noLocation.body.errors).toEqual([
      { path: "targets.0.locationId", message: expect.stringContaining("loc-nowhere") },
    ]);

    const noCalendar = await apiAs(h)
      .post("/api/blocking-rules")
      .send({ ...RULE, source: { locationId: "loc-a", calendarId: "cal-gone" } })
      .expect(400);
    expect(noCalendar.body).toMatchObject({
      code: "invalid_request",
      errors: [{ path: "source.calendarId", message: expect.stringContaining("cal-gone") }],
    });
    expect((await apiAs(h).get("/api/blocking-rules").expect(200)).body.rules).toEqual([]);
  });

  it("mirrors an appointment on every target, moves the blocks with it, and removes them when it is deleted", async () => {
    await apiAs(h).post("/api/blocking-rules").send(RULE).expect(201);

    const create = appointment("AppointmentCreate", "appt-1");
    await deliver(h, signers, create).expect(200);
    expect(await processed(h, create.webhookId)).toMatchObject({ status: "processed" });
    const made = targets(h);
    expect(made).toHaveLength(2);
    expect(h.sandbox.state.blockSlots("loc-b")[0]).toMatchObject({
      calendarId: "cal-2",
      title: expect.stringContaining("Bright Smiles Downtown"),
    });
    expect(h.sandbox.state.blockSlots("loc-solo")[0]).toMatchObject({ assignedUserId: "user-9" });
    for (const slot of made) expect(Date.parse(slot.startTime)).toBe(Date.parse(TIMES.startTime));

    // The same delivery again, and the same news under another webhookId: no second block.
    await deliver(h, signers, create).expect(200);
    const again = appointment("AppointmentCreate", "appt-1");
    await deliver(h, signers, again).expect(200);
    await processed(h, again.webhookId);
    expect(targets(h)).toHaveLength(2);

    const update = appointment("AppointmentUpdate", "appt-1", MOVED);
    await deliver(h, signers, update).expect(200);
    expect(await processed(h, update.webhookId)).toMatchObject({ status: "processed" });
    const moved = targets(h);
    expect(moved.map((s) => s.id).sort()).toEqual(made.map((s) => s.id).sort());
    for (const slot of moved) {
      expect(Date.parse(slot.startTime)).toBe(Date.parse(MOVED.startTime));
      expect(Date.parse(slot.endTime)).toBe(Date.parse(MOVED.endTime));
    }

    const remove = appointment("AppointmentDelete", "appt-1", MOVED);
    await deliver(h, signers, remove).expect(200);
    expect(await processed(h, remove.webhookId)).toMatchObject({ status: "processed" });
    expect(targets(h)).toEqual([]);
  });

  it("a cancelled appointment frees the time; appointments elsewhere and blocks themselves are left alone", async () => {
    await apiAs(h).post("/api/blocking-rules").send(RULE).expect(201);
    const create = appointment("AppointmentCreate", "appt-2");
    await deliver(h, signers, create).expect(200);
    await processed(h, create.webhookId);
    expect(targets(h)).toHaveLength(2);

    const otherCalendar = appointment("AppointmentCreate", "appt-3", { calendarId: "cal-other" });
    await deliver(h, signers, otherCalendar).expect(200);
    await processed(h, otherCalendar.webhookId);
    // HighLevel reporting one of our own blocks as an event must not start a loop.
    const ours = h.sandbox.state.blockSlots("loc-b")[0]!;
    const echo = event({
      type: "AppointmentCreate",
      locationId: "loc-b",
      appointment: { id: ours.id, calendarId: "cal-2", ...TIMES },
    });
    await deliver(h, signers, echo).expect(200);
    expect(await processed(h, echo.webhookId)).toMatchObject({ status: "ignored" });
    expect(targets(h)).toHaveLength(2);

    // Nor one made through the API on the watched calendar itself.
    const made = await apiAs(h)
      .post("/api/locations/loc-a/block-slots")
      .send({ calendarId: "cal-1", title: "Lunch", ...TIMES })
      .expect(201);
    const echoOfApi = event({
      type: "AppointmentCreate",
      locationId: "loc-a",
      appointment: { id: made.body.id, calendarId: "cal-1", ...TIMES },
    });
    await deliver(h, signers, echoOfApi).expect(200);
    expect(await processed(h, echoOfApi.webhookId)).toMatchObject({ status: "ignored" });
    expect(targets(h)).toHaveLength(2);

    const cancel = appointment("AppointmentUpdate", "appt-2", { appointmentStatus: "cancelled" });
    await deliver(h, signers, cancel).expect(200);
    await processed(h, cancel.webhookId);
    expect(targets(h)).toEqual([]);
  });

  it("POST /webhooks/trigger queues one block slot, exactly once per Idempotency-Key", async () => {
    const body = { locationId: "loc-b", calendarId: "cal-2", title: "Staff meeting", ...TIMES };
    const first = await apiAs(h).post("/webhooks/trigger").set("Idempotency-Key", "zap-1").send(body).expect(202);
    expect(first.body).toEqual({ id: expect.any(String), status: "queued" });
    const again = await apiAs(h).post("/webhooks/trigger").set("Idempotency-Key", "zap-1").send(body).expect(202);
    expect(again.body.id).toBe(first.body.id);
    const job = await waitForJob(h, first.body.id);
    expect(job.counts.succeeded).toBe(1);
    expect(h.sandbox.state.blockSlots("loc-b").filter((s) => s.title === "Staff meeting")).toHaveLength(1);

    await request(h.app).post("/webhooks/trigger").send(body).expect(401);
    const bad = await apiAs(h)
      .post("/webhooks/trigger")
      .send({ ...body, locationId: undefined })
      .expect(400);
    expect(bad.body.errors[0].path).toBe("locationId");
  });
});

describe("the order of deliveries", () => {
  it("an older delivery worked after a newer one blocks nothing stale", async () => {
    const h = await setUp(false); // the test works the deliveries itself, in the order it wants
    try {
      await apiAs(h).post("/api/blocking-rules").send(RULE).expect(201);
      const booked = appointment("AppointmentCreate", "appt-5");
      const moved = appointment("AppointmentUpdate", "appt-5", MOVED);
      await deliver(h, signers, booked).expect(200);
      await deliver(h, signers, moved).expect(200);

      await h.services.webhooks.process(moved.webhookId);
      await h.services.webhooks.process(booked.webhookId);
      expect(await h.db.webhookEvent.findUnique({ where: { id: booked.webhookId } })).toMatchObject({
        status: "ignored",
        outcome: "A later delivery for this appointment was already applied.",
      });
      expect(targets(h)).toHaveLength(2);
      for (const slot of targets(h)) expect(Date.parse(slot.startTime)).toBe(Date.parse(MOVED.startTime));
    } finally {
      await h.close();
    }
  });

  it("a move that arrives before the booking it follows is not undone by it (HighLevel's dateUpdated decides)", async () => {
    const h = await setUp(false);
    try {
      await apiAs(h).post("/api/blocking-rules").send(RULE).expect(201);
      const booked = appointment("AppointmentCreate", "appt-6", { dateUpdated: "2030-06-01T10:00:00Z" });
      const moved = appointment("AppointmentUpdate", "appt-6", { ...MOVED, dateUpdated: "2030-06-01T10:05:00Z" });
      // The booking reaches the app last (HighLevel resent it minutes later), and is worked last.
      await deliver(h, signers, moved).expect(200);
      await deliver(h, signers, booked).expect(200);
      await h.services.webhooks.process(moved.webhookId);
      await h.services.webhooks.process(booked.webhookId);
      expect(await h.db.webhookEvent.findUnique({ where: { id: booked.webhookId } })).toMatchObject({
        status: "ignored",
        outcome: "A later delivery for this appointment was already applied.",
      });
      expect(targets(h)).toHaveLength(2);
      for (const slot of targets(h)) expect(Date.parse(slot.startTime)).toBe(Date.parse(MOVED.startTime));
    } finally {
      await h.close();
    }
  });

  it("a booking and its cancellation stored together: the cancellation wins whichever is worked first", async () => {
    const h = await setUp(false);
    try {
      await apiAs(h).post("/api/blocking-rules").send(RULE).expect(201);
      const booked = appointment("AppointmentCreate", "appt-7", { dateUpdated: "2030-06-01T10:00:00Z" });
      const cancelled = appointment("AppointmentUpdate", "appt-7", {
        appointmentStatus: "cancelled",
        dateUpdated: "2030-06-01T10:01:00Z",
      });
      // Delivered at once, one commit stores both with one receipt time (set here, so it surely is).
      await Promise.all([deliver(h, signers, booked).expect(200), deliver(h, signers, cancelled).expect(200)]);
      await h.db.webhookEvent.updateMany({
        where: { id: { in: [booked.webhookId, cancelled.webhookId] } },
        data: { receivedAt: new Date() },
      });
      await h.services.webhooks.process(booked.webhookId);
      await h.services.webhooks.process(cancelled.webhookId);
      expect(await h.db.webhookEvent.findUnique({ where: { id: cancelled.webhookId } })).toMatchObject({
        status: "processed",
      });
      expect(targets(h)).toEqual([]);
      // And a retry of the cancellation's batch changes nothing.
      await h.db.webhookEvent.update({ where: { id: cancelled.webhookId }, data: { status: "received" } });
      await h.services.webhooks.process(cancelled.webhookId);
      expect(await h.db.webhookEvent.findUnique({ where: { id: cancelled.webhookId } })).toMatchObject({
        status: "ignored",
        outcome: "This delivery for this appointment was already applied.",
      });
    } finally {
      await h.close();
    }
  });

  it("a cancellation removes a block whose create reached HighLevel with its answer lost", async () => {
    const h = await setUp(false);
    try {
      await apiAs(h).post("/api/blocking-rules").send(RULE).expect(201);
      const booked = appointment("AppointmentCreate", "appt-8");
      await deliver(h, signers, booked).expect(200);
      await h.services.webhooks.process(booked.webhookId);
      expect(targets(h)).toHaveLength(2);
      // As a crash or a time-out leaves one of them: made in HighLevel, never recorded by the app.
      const [lost] = await h.db.mirroredBlock.findMany({ where: { appointmentId: "appt-8" } });
      await h.db.mirroredBlock.update({
        where: {
          appointmentId_ruleId_targetIndex: {
            appointmentId: "appt-8",
            ruleId: lost!.ruleId,
            targetIndex: lost!.targetIndex,
          },
        },
        data: { status: "creating", blockSlotId: null },
      });
      await h.db.block.deleteMany({ where: { blockSlotId: lost!.blockSlotId! } });

      const cancelled = appointment("AppointmentUpdate", "appt-8", { appointmentStatus: "cancelled" });
      await deliver(h, signers, cancelled).expect(200);
      await h.services.webhooks.process(cancelled.webhookId);
      expect(targets(h)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it("appointments no rule watches leave no row behind", async () => {
    const h = await setUp(false);
    try {
      const booked = appointment("AppointmentCreate", "appt-6");
      const moved = appointment("AppointmentUpdate", "appt-6", MOVED);
      for (const delivery of [booked, moved]) {
        await deliver(h, signers, delivery).expect(200);
        await h.services.webhooks.process(delivery.webhookId);
        expect(await h.db.webhookEvent.findUnique({ where: { id: delivery.webhookId } })).toMatchObject({
          status: "ignored",
          locationId: "loc-a",
          outcome: "No blocking rule watches this location.",
        });
      }
      expect(await h.db.appointmentState.count()).toBe(0);
    } finally {
      await h.close();
    }
  });
});

describe("a batch of deliveries worked together", () => {
  it("settles the appointments no rule watches at once, and mirrors the watched one", async () => {
    const h = await setUp(false); // the deliveries wait, so the worker fetches them as one batch
    try {
      await apiAs(h).post("/api/blocking-rules").send(RULE).expect(201);
      const elsewhere = (type: string, times: typeof TIMES) =>
        event({ type, locationId: "loc-b", appointment: { id: "appt-b1", calendarId: "cal-2", ...times } });
      const booked = elsewhere("AppointmentCreate", TIMES);
      const moved = elsewhere("AppointmentUpdate", MOVED);
      const watched = appointment("AppointmentCreate", "appt-a1");
      for (const delivery of [booked, moved, watched]) await deliver(h, signers, delivery).expect(200);

      await h.services.startJobs();
      for (const delivery of [booked, moved]) {
        expect(await processed(h, delivery.webhookId)).toMatchObject({
          status: "ignored",
          locationId: "loc-b",
          outcome: "No blocking rule watches this location.",
          attempts: 1,
        });
      }
      expect(await processed(h, watched.webhookId)).toMatchObject({ status: "processed" });
      expect(targets(h)).toHaveLength(2);
      // Only the watched appointment is remembered, with its end: housekeeping forgets it once that is long past.
      const states = await h.db.appointmentState.findMany({ select: { id: true, endsAt: true } });
      expect(states).toEqual([{ id: "appt-a1", endsAt: new Date(TIMES.endTime) }]);
    } finally {
      await h.close();
    }
  });
});

describe("a delivery received by one process is worked by another", () => {
  it("the app restarts between receipt and processing and still does the work", async () => {
    const h = await setUp(false); // receives, never works the queue
    try {
      await apiAs(h).post("/api/blocking-rules").send(RULE).expect(201);
      const create = appointment("AppointmentCreate", "appt-9");
      await deliver(h, signers, create).expect(200);
      expect(await h.db.webhookEvent.findUnique({ where: { id: create.webhookId } })).toMatchObject({
        status: "received",
      });
      expect(targets(h)).toEqual([]);

      const server = spawnTs("src/server.ts", [], { ...h.childEnv, PORT: "0", LOG_LEVEL: "info" });
      try {
        await waitForLine(server, (line) => line.includes('"listening"'));
        expect(await processed(h, create.webhookId)).toMatchObject({ status: "processed" });
      } finally {
        server.kill("SIGKILL");
      }
      expect(targets(h)).toHaveLength(2);
    } finally {
      await h.close();
    }
  });
});
