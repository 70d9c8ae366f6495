import request from "supertest";
import { apiAs, installCompany } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { CLINICS, ELSEWHERE, PLANS, waitForPlan, type PlanBody } from "./support/plans";

let h: Harness;
let companyKey: string;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [CLINICS, ELSEWHERE] }, jobs: true });
  await installCompany(h, CLINICS.id);
  await installCompany(h, ELSEWHERE.id);
  companyKey = (await h.services.apiKeys.create("Harbour ops", { scope: "company", companyId: CLINICS.id })).key;
});
afterAll(() => h.close());
beforeEach(() => h.sandbox.state.resetRequests());

/** Lunch on three weekdays from Monday 2 March 2026. */
const LUNCH = { start: "2026-03-02T12:00", end: "2026-03-02T13:00", rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=3" };

describe("preview", () => {
  it('expands a company target with "calendars": "all" and sends nothing but reads', async () => {
    const res = await apiAs(h, companyKey)
      .post(`${PLANS}/preview`)
      .send({ title: "Lunch", targets: [{ companyId: CLINICS.id, calendars: "all" }], schedule: LUNCH })
      .expect(200);
    expect(res.body.total).toBe(12);
    const where = new Set(
      res.body.blocks.map((b: { locationId: string; calendarId: string }) => `${b.locationId}/${b.calendarId}`),
    );
    expect([...where].sort()).toEqual([
      "clinic-ldn/ldn-chairs",
      "clinic-ldn/ldn-xray",
      "clinic-ny/ny-chairs",
      "clinic-ny/ny-xray",
    ]);
    expect(res.body.blocks).toContainEqual({
      locationId: "clinic-ldn",
      calendarId: "ldn-xray",
      startTime: "2026-03-04T12:00:00+00:00",
      endTime: "2026-03-04T13:00:00+00:00",
    });
    expect(h.sandbox.state.requests.every((r) => r.method === "GET")).toBe(true);
    expect(h.sandbox.state.count("GET", "/calendars/events")).toBe(4); // one per calendar, whole span
    expect(h.sandbox.state.invalidRequests()).toEqual([]);
    expect(await h.db.blockPlan.count()).toBe(0);

    // The calendars are kept a short while: a preview then an apply lists them once.
    h.sandbox.state.resetRequests();
    await apiAs(h, companyKey)
      .post(`${PLANS}/preview`)
      .send({ title: "Lunch", targets: [{ companyId: CLINICS.id, calendars: "all" }], schedule: LUNCH })
      .expect(200);
    expect(h.sandbox.state.requests.filter((r) => r.path === "/calendars/")).toEqual([]);
  });

  it("reports an appointment the sandbox holds, and an existing block, in the plan's windows", async () => {
    const appointment = h.sandbox.state.addAppointment({
      locationId: "clinic-ny",
      calendarId: "ny-chairs",
      startTime: "2026-03-03T12:30:00-05:00",
      endTime: "2026-03-03T13:15:00-05:00",
      title: "Crown fitting",
    });
    const outside = h.sandbox.state.addAppointment({
      locationId: "clinic-ny",
      calendarId: "ny-chairs",
      startTime: "2026-03-03T14:00:00-05:00",
      endTime: "2026-03-03T15:00:00-05:00",
    });
    const block = await apiAs(h)
      .post("/api/locations/clinic-ny/block-slots")
      .send({
        calendarId: "ny-chairs",
        startTime: "2026-03-04T11:00:00-05:00",
        endTime: "2026-03-04T12:30:00-05:00",
        title: "Staff meeting",
      })
      .expect(201);
    const res = await apiAs(h)
      .post(`${PLANS}/preview`)
      .send({ title: "Lunch", targets: [{ locationId: "clinic-ny", calendarIds: ["ny-chairs"] }], schedule: LUNCH })
      .expect(200);
    expect(res.body.conflicts).toEqual([
      {
        locationId: "clinic-ny",
        calendarId: "ny-chairs",
        startTime: appointment.startTime,
        endTime: appointment.endTime,
        eventId: appointment.id,
        kind: "appointment",
        title: "Crown fitting",
      },
      {
        locationId: "clinic-ny",
        calendarId: "ny-chairs",
        startTime: "2026-03-04T11:00:00-05:00",
        endTime: "2026-03-04T12:30:00-05:00",
        eventId: block.body.id,
        kind: "block",
        title: "Staff meeting",
      },
    ]);
    expect(res.body.conflicts.map((c: { eventId: string }) => c.eventId)).not.toContain(outside.id);
    h.sandbox.state.deleteAppointment(appointment.id);
    h.sandbox.state.deleteAppointment(outside.id);
    await apiAs(h).delete(`/api/locations/clinic-ny/block-slots/${block.body.id}`).expect(204);
  });
  it("leaves out freed appointments and events that only touch a block; names a user's", async () => {
    const add = (day: string, from: string, to: string, fields: Record<string, string> = {}) =>
      h.sandbox.state.addAppointment({
        locationId: "clinic-ny",
        calendarId: "ny-xray",
        startTime: `2026-03-0${day}T${from}:00-05:00`,
        endTime: `2026-03-0${day}T${to}:00-05:00`,
        ...fields,
      });
    const quiet = [
      add("2", "12:15", "12:45", { appointmentStatus: "cancelled" }),
      add("3", "12:15", "12:45", { appointmentStatus: "invalid" }),
      add("3", "11:00", "12:00"), // ends as the block starts
      add("3", "13:00", "14:00"), // starts as the block ends
    ];
    const overlapping = add("4", "12:59", "13:30", { appointmentStatus: "noshow", assignedUserId: "lee-ny" });
    const res = await apiAs(h)
      .post(`${PLANS}/preview`)
      .send({
        title: "Lunch",
        targets: [
          { locationId: "clinic-ny", calendarIds: ["ny-xray"] },
          { locationId: "clinic-ny", userIds: ["lee-ny"] },
        ],
        schedule: LUNCH,
      })
      .expect(200);
    const seen = { eventId: overlapping.id, kind: "appointment", title: "Appointment" };
    const times = { startTime: overlapping.startTime, endTime: overlapping.endTime };
    expect(res.body.conflicts).toEqual([
      { locationId: "clinic-ny", calendarId: "ny-xray", ...times, ...seen },
      { locationId: "clinic-ny", assignedUserId: "lee-ny", ...times, ...seen },
    ]);
    for (const a of [...quiet, overlapping]) h.sandbox.state.deleteAppointment(a.id);
  });
});

describe("refusals: nothing read, nothing stored", () => {
  it("403 for a location or a company outside the key's scope", async () => {
    for (const targets of [
      [
        { locationId: "clinic-ny", calendars: "all" },
        { locationId: "clinic-elsewhere", calendars: "all" },
      ],
      [{ companyId: ELSEWHERE.id, calendars: "all" }],
    ]) {
      for (const path of [`${PLANS}/preview`, PLANS]) {
        const res = await apiAs(h, companyKey).post(path).send({ title: "x", targets, schedule: LUNCH }).expect(403);
        expect(res.body.code).toBe("forbidden");
      }
    }
    expect(h.sandbox.state.requests).toEqual([]);
    expect(await h.db.blockPlan.count({ where: { title: "x" } })).toBe(0);
  });

  it("400 plan_too_large naming the count, from preview and create alike", async () => {
    const body = {
      title: "Too much",
      targets: [{ companyId: CLINICS.id, calendars: "all" }],
      schedule: { start: "2026-01-01T12:00", end: "2026-01-01T13:00", rrule: "FREQ=DAILY;COUNT=2501" },
    };
    for (const path of [`${PLANS}/preview`, PLANS]) {
      const res = await apiAs(h).post(path).send(body).expect(400);
      expect(res.body).toMatchObject({ code: "plan_too_large", detail: expect.stringContaining("10,004 blocks") });
    }
    expect(await h.db.blockPlan.count({ where: { title: "Too much" } })).toBe(0);
  });

  it("400 naming schedule.rrule for a rule that never matches, while the server goes on answering", async () => {
    const body = {
      title: "Never",
      targets: [{ locationId: "clinic-ny", calendars: "all" }],
      schedule: {
        start: "2026-02-01T09:00",
        end: "2026-02-01T17:00",
        rrule: "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;UNTIL=20270301",
      },
    };
    const order: string[] = [];
    const plan = apiAs(h)
      .post(PLANS)
      .send(body)
      .then((res) => (order.push("plan"), res));
    await new Promise((r) => setTimeout(r, 300));
    await request(h.app).get("/healthz").expect(200);
    order.push("healthz");
    const res = await plan;
    expect(order).toEqual(["healthz", "plan"]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "invalid_request", errors: [{ path: "schedule.rrule" }] });
    expect(await h.db.blockPlan.count({ where: { title: "Never" } })).toBe(0);
  });

  it("400 naming a calendar the location does not have", async () => {
    const res = await apiAs(h)
      .post(PLANS)
      .send({
        title: "x",
        targets: [{ locationId: "clinic-ny", calendarIds: ["ny-chairs", "ldn-xray"] }],
        schedule: LUNCH,
      })
      .expect(400);
    expect(res.body.errors).toEqual([
      { path: "targets.0.calendarIds.1", message: expect.stringContaining("clinic-ny") },
    ]);
  });
});

describe("applying, changing and deleting a plan", () => {
  const byCalendar = (plan: PlanBody) =>
    new Map(
      plan
        .blocks!.filter((b) => b.status === "created")
        .map((b) => [`${b.calendarId ?? b.assignedUserId} ${b.startTime}`, b.blockSlotId]),
    );
  const slotsOf = (title: string) =>
    [...h.sandbox.state.slots.values()]
      .filter((s) => s.title === title)
      .sort((a, b) => a.startTime.localeCompare(b.startTime));

  it("applies every block once, then PUT adds, removes and moves occurrences keeping the ids of the others", async () => {
    const body = {
      title: "Dr. Lee away",
      targets: [
        { locationId: "clinic-ny", calendars: "all" },
        { locationId: "clinic-ldn", userIds: ["lee-ldn"] },
      ],
      schedule: LUNCH,
    };
    const created = await apiAs(h).post(PLANS).send(body).expect(202);
    expect(created.body).toEqual({ id: expect.any(String), status: "applying", total: 9 });
    expect(created.headers.location).toBe(`${PLANS}/${created.body.id}`);
    const id = created.body.id as string;
    const applied = await waitForPlan(h, id);
    expect(applied).toMatchObject({ status: "applied", counts: { pending: 0, created: 9, failed: 0, removed: 0 } });
    expect(slotsOf("Dr. Lee away")).toHaveLength(9);
    expect(
      slotsOf("Dr. Lee away")
        .filter((s) => s.assignedUserId === "lee-ldn")
        .map((s) => s.startTime),
    ).toEqual(["2026-03-02T12:00:00+00:00", "2026-03-03T12:00:00+00:00", "2026-03-04T12:00:00+00:00"]);
    expect(await h.db.block.count({ where: { origin: "plan", originId: id, deletedAt: null } })).toBe(9);
    const before = byCalendar(applied);

    // Monday kept, Tuesday dropped, Thursday added: only those two reach HighLevel.
    h.sandbox.state.resetRequests();
    const changed = {
      ...body,
      schedule: { ...LUNCH, rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=4", exdates: ["2026-03-03"] },
    };
    await apiAs(h).put(`${PLANS}/${id}`).send(changed).expect(202);
    const second = await waitForPlan(h, id);
    expect(second.counts).toEqual({ pending: 0, created: 9, failed: 0, removed: 3 });
    expect(h.sandbox.state.count("POST", "/calendars/events/block-slots")).toBe(3);
    expect(h.sandbox.state.count("DELETE", "/calendars/events/")).toBe(3);
    expect(h.sandbox.state.count("PUT", "/calendars/events/block-slots")).toBe(0);
    const after = byCalendar(second);
    for (const [where, blockSlotId] of before) if (!where.includes("-03T")) expect(after.get(where)).toBe(blockSlotId);

    // The hours move: the same occurrences are edited in place and keep their HighLevel ids.
    h.sandbox.state.resetRequests();
    const moved = { ...changed, schedule: { ...changed.schedule, start: "2026-03-02T12:30", end: "2026-03-02T13:30" } };
    await apiAs(h).put(`${PLANS}/${id}`).send(moved).expect(202);
    const third = await waitForPlan(h, id);
    expect(third.counts).toMatchObject({ pending: 0, created: 9, failed: 0 });
    expect(h.sandbox.state.count("PUT", "/calendars/events/block-slots")).toBe(9);
    expect(h.sandbox.state.count("POST", "/calendars/events/block-slots")).toBe(0);
    const ids = (plan: PlanBody) =>
      plan
        .blocks!.filter((b) => b.status === "created")
        .map((b) => b.blockSlotId)
        .sort();
    expect(ids(third)).toEqual(ids(second));
    expect(slotsOf("Dr. Lee away").map((s) => s.startTime.slice(11, 16))).toEqual(Array(9).fill("12:30"));
    // The plan's own blocks, in its new windows, are not conflicts of the plan.
    expect(third.conflicts).toEqual([]);
    expect(h.sandbox.state.invalidRequests()).toEqual([]);

    await apiAs(h).delete(`${PLANS}/${id}`).expect(202);
    const deleted = await waitForPlan(h, id);
    expect(deleted).toMatchObject({ status: "deleted", counts: { pending: 0, created: 0, failed: 0, removed: 12 } });
    expect(slotsOf("Dr. Lee away")).toEqual([]);
    await apiAs(h).delete(`${PLANS}/${id}`).expect(202);
    expect((await waitForPlan(h, id)).status).toBe("deleted");
    const refused = await apiAs(h).put(`${PLANS}/${id}`).send(moved).expect(409);
    expect(refused.body.code).toBe("plan_deleted");
  });

  it("DELETE after a block was deleted by hand in HighLevel is not an error", async () => {
    const body = {
      title: "Closed – Christmas",
      targets: [{ companyId: CLINICS.id, calendars: "all" }],
      schedule: { start: "2026-12-25T00:00", end: "2026-12-26T00:00" },
    };
    const { id } = (await apiAs(h).post(PLANS).send(body).expect(202)).body as { id: string };
    const applied = await waitForPlan(h, id);
    expect(applied.counts.created).toBe(4);
    expect(
      slotsOf("Closed – Christmas")
        .map((s) => s.startTime)
        .sort(),
    ).toEqual([
      "2026-12-25T00:00:00+00:00",
      "2026-12-25T00:00:00+00:00",
      "2026-12-25T00:00:00-05:00",
      "2026-12-25T00:00:00-05:00",
    ]);
    h.sandbox.state.slots.delete(applied.blocks![0]!.blockSlotId!);

    await apiAs(h).delete(`${PLANS}/${id}`).expect(202);
    const deleted = await waitForPlan(h, id);
    expect(deleted).toMatchObject({ status: "deleted", counts: { pending: 0, created: 0, failed: 0, removed: 4 } });
    expect(slotsOf("Closed – Christmas")).toEqual([]);
  });

  it("lists plans newest first a page at a time, each once, the last page without next", async () => {
    for (const day of ["2027-03-01", "2027-03-02", "2027-03-03"]) {
      const one = { title: `Paged ${day}`, targets: [{ locationId: "clinic-ny", calendarIds: ["ny-xray"] }] };
      await apiAs(h)
        .post(PLANS)
        .send({ ...one, schedule: { start: `${day}T09:00`, end: `${day}T10:00` } })
        .expect(202);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await apiAs(h)
        .get(PLANS)
        .query({ limit: "2", ...(cursor ? { cursor } : {}) })
        .expect(200);
      seen.push(...(res.body.plans as { id: string }[]).map((p) => p.id));
      cursor = res.body.next as string | undefined;
      pages += 1;
    } while (cursor !== undefined);
    const all = ((await apiAs(h).get(PLANS).expect(200)).body.plans as { id: string }[]).map((p) => p.id);
    expect(all.length).toBeGreaterThan(2);
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 2));
    const bad = await apiAs(h).get(PLANS).query({ cursor: "yesterday" }).expect(400);
    expect(bad.body.errors).toEqual([{ path: "cursor", message: expect.stringContaining("next") }]);
  });

  it("a plan belongs to where it acts: every key of its agency sees it, not only the key that made it", async () => {
    const ny = { title: "Mine", targets: [{ locationId: "clinic-ny", calendarIds: ["ny-xray"] }], schedule: LUNCH };
    const { id } = (await apiAs(h, companyKey).post(PLANS).send(ny).expect(202)).body as { id: string };
    await waitForPlan(h, id);
    const key = async (name: string, scope: Parameters<Harness["services"]["apiKeys"]["create"]>[1]) =>
      (await h.services.apiKeys.create(name, scope)).key;
    const listed = async (k: string) =>
      ((await apiAs(h, k).get(PLANS).expect(200)).body.plans as { id: string }[]).map((p) => p.id);

    // The agency's next key (as after rotating this one away) reads, lists and may undo it.
    const rotated = await key("Harbour ops 2027", { scope: "company", companyId: CLINICS.id });
    await apiAs(h, rotated).get(`${PLANS}/${id}`).expect(200);
    expect(await listed(rotated)).toContain(id);
    // The New York sub-account's own key too: every block of it is there.
    const nyDesk = await key("NY desk", { scope: "location", locationId: "clinic-ny" });
    await apiAs(h, nyDesk).get(`${PLANS}/${id}`).expect(200);
    // Not London's, and not another agency's: to them it does not exist.
    const ldnDesk = await key("London desk", { scope: "location", locationId: "clinic-ldn" });
    const stranger = await key("Elsewhere ops", { scope: "company", companyId: ELSEWHERE.id });
    for (const k of [ldnDesk, stranger]) {
      await apiAs(h, k).get(`${PLANS}/${id}`).expect(404);
      await apiAs(h, k).delete(`${PLANS}/${id}`).expect(404);
      expect(await listed(k)).not.toContain(id);
    }

    // Once it has reached London too, New York's key no longer sees it (it would see, and could
    // undo, London's blocks), even after it is narrowed back to New York.
    const both = { ...ny, targets: [...ny.targets, { locationId: "clinic-ldn", calendarIds: ["ldn-xray"] }] };
    await apiAs(h, rotated).put(`${PLANS}/${id}`).send(both).expect(202);
    await apiAs(h, nyDesk).get(`${PLANS}/${id}`).expect(404);
    await apiAs(h, rotated).put(`${PLANS}/${id}`).send(ny).expect(202);
    await waitForPlan(h, id);
    await apiAs(h, nyDesk).get(`${PLANS}/${id}`).expect(404);
    await apiAs(h, nyDesk).delete(`${PLANS}/${id}`).expect(404);
    await apiAs(h, companyKey).get(`${PLANS}/${id}`).expect(200);
  });

  it("a sub-account moved to another agency is no longer the old agency's to change or undo", async () => {
    const body = {
      title: "Moving",
      targets: [{ locationId: "clinic-ny", calendarIds: ["ny-chairs"] }],
      schedule: LUNCH,
    };
    const { id } = (await apiAs(h, companyKey).post(PLANS).send(body).expect(202)).body as { id: string };
    await waitForPlan(h, id);
    await h.db.location.update({ where: { id: "clinic-ny" }, data: { companyId: ELSEWHERE.id } });
    try {
      // The plan still reads as the old agency's until it changes; touching it checks where it is now.
      await apiAs(h, companyKey).delete(`${PLANS}/${id}`).expect(404);
      await apiAs(h, companyKey).put(`${PLANS}/${id}`).send(body).expect(403);
      expect(await h.db.blockPlan.findUniqueOrThrow({ where: { id } })).toMatchObject({ deletedAt: null });
    } finally {
      await h.db.location.update({ where: { id: "clinic-ny" }, data: { companyId: CLINICS.id } });
    }
    await apiAs(h, companyKey).delete(`${PLANS}/${id}`).expect(202);
    await waitForPlan(h, id);
  });

  it("a plan a full-access key makes over one agency's sub-accounts is that agency's to see", async () => {
    const body = { title: "Operator's", targets: [{ companyId: CLINICS.id, calendars: "all" }], schedule: LUNCH };
    const { id } = (await apiAs(h).post(PLANS).send(body).expect(202)).body as { id: string };
    await waitForPlan(h, id);
    await apiAs(h, companyKey).get(`${PLANS}/${id}`).expect(200);
    const nyDesk = (await h.services.apiKeys.create("NY front desk", { scope: "location", locationId: "clinic-ny" }))
      .key;
    await apiAs(h, nyDesk).get(`${PLANS}/${id}`).expect(404);
  });
});

describe("the console's list of plans", () => {
  const signIn = async (key: string) => {
    const res = await request(h.app).post("/console/login").type("form").send({ key }).expect(303);
    return (res.headers["set-cookie"] as unknown as string[])
      .find((c) => c.startsWith("hlbs_console="))!
      .split(";")[0]!;
  };

  it("lists a key's plans with status, counts and who; a plan's blocks by location name in local time", async () => {
    // The locations' names and zones, as HighLevel gives them.
    for (const location of CLINICS.locations) await h.services.locations.refresh(location.id);
    const body = {
      title: "Closed – New Year",
      targets: [{ companyId: CLINICS.id, calendars: "all" }],
      schedule: { start: "2027-01-01T00:00", end: "2027-01-02T00:00" },
    };
    const { id } = (await apiAs(h, companyKey).post(PLANS).send(body).expect(202)).body as { id: string };
    await waitForPlan(h, id);
    const cookie = await signIn(companyKey);

    const list = await request(h.app).get("/console/plans").set("Cookie", cookie).expect(200);
    expect(list.text).toContain(`href="/console/plans/${id}">Closed – New Year</a>`);
    expect(list.text).toContain("Applied");
    expect(list.text).toContain("4 created");
    expect(list.text).toContain("Harbour ops");

    const detail = await request(h.app).get(`/console/plans/${id}`).set("Cookie", cookie).expect(200);
    expect(detail.text).toContain("Harbour Clinic New York");
    // Calendars by the names HighLevel listed when the plan expanded "all".
    expect(detail.text).toContain('X-ray <span class="muted small"><code>ny-xray</code>');
    // The audit trail names the plan that made each block by its title.
    const audit = await request(h.app).get("/console/audit").set("Cookie", cookie).expect(200);
    expect(audit.text).toContain("Block plan <strong>Closed – New Year</strong>");
    expect(audit.text).toMatch(new RegExp(`Plan applied[\\s\\S]*?Closed – New Year <code>${id}</code>`));
    expect(detail.text).toMatch(
      /1 Jan 2027, 00:00<\/span> – <span class="nowrap">2 Jan 2027, 00:00<\/span> <span class="muted small">America\/New_York/,
    );
    expect(detail.text).toContain("Europe/London");

    const other = await signIn(
      (await h.services.apiKeys.create("stranger", { scope: "company", companyId: ELSEWHERE.id })).key,
    );
    const theirs = await request(h.app).get("/console/plans").set("Cookie", other).expect(200);
    expect(theirs.text).not.toContain(id);
    expect(theirs.text).toContain("No block plans yet.");
    await request(h.app).get(`/console/plans/${id}`).set("Cookie", other).expect(404);
  });

  it("shows a removal that left blocks in HighLevel as removed with errors, not as done", async () => {
    const body = {
      title: "Closed – audit day",
      targets: [{ locationId: "clinic-ny", calendarIds: ["ny-chairs"] }],
      schedule: { start: "2027-02-01T00:00", end: "2027-02-02T00:00" },
    };
    const { id } = (await apiAs(h, companyKey).post(PLANS).send(body).expect(202)).body as { id: string };
    await waitForPlan(h, id);
    h.sandbox.state.failNext(
      { method: "DELETE", path: "/calendars/events/" },
      { status: 422, body: { statusCode: 422, message: ["try later"] } },
    );
    await apiAs(h, companyKey).delete(`${PLANS}/${id}`).expect(202);
    expect(await waitForPlan(h, id)).toMatchObject({ status: "deleted", counts: { failed: 1 } });
    const cookie = await signIn(companyKey);
    const list = await request(h.app).get("/console/plans").set("Cookie", cookie).expect(200);
    expect(list.text).toMatch(
      new RegExp(`Closed – audit day</a></th>\\s*<td data-label="Status"><span[^>]*>Removed with errors`),
    );
    const detail = await request(h.app).get(`/console/plans/${id}`).set("Cookie", cookie).expect(200);
    expect(detail.text).toContain("Removed with errors");
  });
});
