import request from "supertest";
import { encryptSsoPayload } from "../sandbox/sso-payload";
import { apiAs, installCompany } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { CLINICS, ELSEWHERE } from "./support/plans";

const SSO_KEY = "shared-secret-of-the-test-app";
const STAFF = { userId: "u-staff", companyId: CLINICS.id, role: "user", type: "account", userName: "Sam" };
const ADMIN = { userId: "u-admin", companyId: CLINICS.id, role: "admin", type: "agency", userName: "Ada" };
const AGENCY_USER = { ...ADMIN, userId: "u-agent", role: "user", userName: "Ben" };
/** Lunch on two weekdays from Monday 2 March 2026, local to each sub-account. */
const LUNCH = { start: "2026-03-02T12:00", end: "2026-03-02T13:00", rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=2" };
const plan = (targets: unknown[], title = "Lunch") => ({ title, targets, schedule: LUNCH });

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    sandbox: { companies: [CLINICS, ELSEWHERE] },
    env: { HIGHLEVEL_SSO_KEY: SSO_KEY },
    jobs: true,
  });
  await installCompany(h, CLINICS.id);
  await installCompany(h, ELSEWHERE.id);
});
afterAll(() => h.close());

/** A page session as the page opens it: its cookie, and the CSRF token it sends on writes. */
async function signIn(data: Record<string, unknown>) {
  const res = await request(h.app)
    .post("/app/session")
    .send({ payload: encryptSsoPayload(data, SSO_KEY) })
    .expect(200);
  const cookie = (res.headers["set-cookie"] as unknown as string[])[0]!.split(";")[0]!;
  const csrf = res.body.csrf as string;
  return {
    get: (path: string) => request(h.app).get(path).set("Cookie", cookie),
    post: (path: string, body: unknown) =>
      request(h.app)
        .post(path)
        .set("Cookie", cookie)
        .set("X-CSRF-Token", csrf)
        .send(body as object),
    del: (path: string) => request(h.app).delete(path).set("Cookie", cookie).set("X-CSRF-Token", csrf),
    postWithoutToken: (path: string, body: unknown) =>
      request(h.app)
        .post(path)
        .set("Cookie", cookie)
        .send(body as object),
  };
}

async function settled(session: Awaited<ReturnType<typeof signIn>>, id: string) {
  for (let i = 0; i < 150; i++) {
    const res = await session.get(`/app/api/plans/${id}?blocks=none`).expect(200);
    if (res.body.counts.pending === 0) return res.body as { status: string; counts: Record<string, number> };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`plan ${id} never settled`);
}

describe("a sub-account's page plans over its own calendars only", () => {
  it("previews its own calendar by name, in its own zone", async () => {
    const staff = await signIn({ ...STAFF, activeLocation: "clinic-ny" });
    const res = await staff
      .post("/app/api/plans/preview", plan([{ locationId: "clinic-ny", calendarIds: ["ny-xray"] }]))
      .expect(200);
    expect(res.body).toMatchObject({
      total: 2,
      locations: [
        {
          locationId: "clinic-ny",
          locationName: "Harbour Clinic New York",
          timeZone: "America/New_York",
          blocks: 2,
          calendars: 1,
          teamMembers: 0,
          first: [
            { startTime: "2026-03-02T12:00:00-05:00", endTime: "2026-03-02T13:00:00-05:00" },
            { startTime: "2026-03-03T12:00:00-05:00", endTime: "2026-03-03T13:00:00-05:00" },
          ],
        },
      ],
    });
  });

  it("refuses another sub-account of the same agency, or the whole agency, and stores nothing", async () => {
    const staff = await signIn({ ...STAFF, activeLocation: "clinic-ny" });
    h.sandbox.state.resetRequests();
    for (const targets of [
      [{ locationId: "clinic-ldn", calendars: "all" }],
      [
        { locationId: "clinic-ny", calendars: "all" },
        { locationId: "clinic-ldn", calendarIds: ["ldn-xray"] },
      ],
      [{ companyId: CLINICS.id, calendars: "all" }],
    ]) {
      await staff.post("/app/api/plans/preview", plan(targets)).expect(403);
      const res = await staff.post("/app/api/plans", plan(targets)).expect(403);
      expect(res.body.code).toBe("forbidden");
    }
    expect(h.sandbox.state.requests).toEqual([]);
    expect(await h.db.blockPlan.count({ where: { title: "Lunch" } })).toBe(0);
  });

  it("applies, audited as the signed-in user; the agency sees it, another sub-account does not", async () => {
    const staff = await signIn({ ...STAFF, activeLocation: "clinic-ny" });
    const made = await staff
      .post("/app/api/plans", plan([{ locationId: "clinic-ny", calendarIds: ["ny-chairs"] }], "Staff lunch"))
      .expect(202);
    expect((await settled(staff, made.body.id)).status).toBe("applied");
    const slots = h.sandbox.state.blockSlots("clinic-ny").filter((s) => s.title === "Staff lunch");
    expect(slots.map((s) => [s.calendarId, s.startTime]).sort()).toEqual([
      ["ny-chairs", "2026-03-02T12:00:00-05:00"],
      ["ny-chairs", "2026-03-03T12:00:00-05:00"],
    ]);
    const audit = await h.db.auditEvent.findFirst({ where: { action: "plan.applied", subjectId: made.body.id } });
    expect(audit).toMatchObject({ actorKind: "user", actorId: "u-staff", actorName: "Sam", locationId: "clinic-ny" });

    const listed = await staff.get("/app/api/plans").expect(200);
    expect(listed.body.plans.map((p: { id: string }) => p.id)).toContain(made.body.id);
    // The agency's page sees what its sub-accounts planned (it could remove those blocks one by one).
    const admin = await signIn(ADMIN);
    await admin.get(`/app/api/plans/${made.body.id}`).expect(200);
    const agencyList = await admin.get("/app/api/plans").expect(200);
    expect(agencyList.body.plans.find((p: { id: string }) => p.id === made.body.id)).toMatchObject({ by: "Sam" });
    const other = await signIn({ ...STAFF, activeLocation: "clinic-ldn" });
    await other.get(`/app/api/plans/${made.body.id}`).expect(404);
    await other.del(`/app/api/plans/${made.body.id}`).expect(404);
    expect((await other.get("/app/api/plans").expect(200)).body.plans).not.toContainEqual(
      expect.objectContaining({ id: made.body.id }),
    );

    await staff.del(`/app/api/plans/${made.body.id}`).expect(202);
    expect((await settled(staff, made.body.id)).status).toBe("deleted");
    expect(h.sandbox.state.blockSlots("clinic-ny").filter((s) => s.title === "Staff lunch")).toEqual([]);
  });

  it("writes only with the page's CSRF token", async () => {
    const staff = await signIn({ ...STAFF, activeLocation: "clinic-ny" });
    await staff
      .postWithoutToken("/app/api/plans", plan([{ locationId: "clinic-ny", calendars: "all" }], "No token"))
      .expect(403);
    expect(await h.db.blockPlan.count({ where: { title: "No token" } })).toBe(0);
  });
});

describe("the agency's page", () => {
  it("an admin plans over two sub-accounts in their own zones, with the other's calendars by name", async () => {
    const admin = await signIn(ADMIN);
    const appointment = h.sandbox.state.addAppointment({
      locationId: "clinic-ldn",
      calendarId: "ldn-xray",
      startTime: "2026-03-03T12:30:00+00:00",
      endTime: "2026-03-03T13:00:00+00:00",
      title: "Knee scan",
    });
    try {
      const res = await admin
        .post(
          "/app/api/plans/preview",
          plan([
            { locationId: "clinic-ny", calendars: "all" },
            { locationId: "clinic-ldn", calendars: "all" },
          ]),
        )
        .expect(200);
      expect(res.body.total).toBe(8);
      expect(
        res.body.locations.map((l: { timeZone: string; first: { startTime: string }[] }) => l.first[0]!.startTime),
      ).toEqual(["2026-03-02T12:00:00+00:00", "2026-03-02T12:00:00-05:00"]);
      expect(res.body.conflicts).toEqual([
        {
          locationId: "clinic-ldn",
          locationName: "Harbour Clinic London",
          timeZone: "Europe/London",
          who: "X-ray",
          kind: "appointment",
          title: "Knee scan",
          startTime: appointment.startTime,
          endTime: appointment.endTime,
        },
      ]);
    } finally {
      h.sandbox.state.deleteAppointment(appointment.id);
    }
  });

  it("refuses another agency's sub-account, and stores nothing", async () => {
    const admin = await signIn(ADMIN);
    for (const targets of [
      [{ locationId: "clinic-elsewhere", calendars: "all" }],
      [{ companyId: ELSEWHERE.id, calendars: "all" }],
    ]) {
      await admin.post("/app/api/plans", plan(targets, "Not ours")).expect(403);
    }
    expect(await h.db.blockPlan.count({ where: { title: "Not ours" } })).toBe(0);
  });

  it("lists a plan made with an API key as made through the API, without the key's name", async () => {
    const made = await apiAs(h)
      .post("/api/block-plans")
      .send(plan([{ locationId: "clinic-ny", calendarIds: ["ny-xray"] }], "Made by a script"))
      .expect(202);
    const staff = await signIn({ ...STAFF, activeLocation: "clinic-ny" });
    await settled(staff, made.body.id);
    const listed = (await staff.get("/app/api/plans").expect(200)).body.plans as Record<string, unknown>[];
    const row = listed.find((p) => p.id === made.body.id);
    expect(row).toMatchObject({ title: "Made by a script", madeWith: "api" });
    expect(row).not.toHaveProperty("by");
    await staff.del(`/app/api/plans/${made.body.id}`).expect(202);
    await settled(staff, made.body.id);
  });

  it("an agency user who is not an admin sees the plans but cannot preview, apply or undo", async () => {
    const admin = await signIn(ADMIN);
    const made = await admin
      .post("/app/api/plans", plan([{ companyId: CLINICS.id, calendars: "all" }], "Training day"))
      .expect(202);
    await settled(admin, made.body.id);

    const agent = await signIn(AGENCY_USER);
    const listed = await agent.get("/app/api/plans").expect(200);
    expect(listed.body.plans.find((p: { id: string }) => p.id === made.body.id)).toMatchObject({
      title: "Training day",
      status: "applied",
      by: "Ada",
      madeWith: "page",
      counts: { created: 8 },
    });
    const targets = [{ companyId: CLINICS.id, calendars: "all" }];
    const refused = await agent.post("/app/api/plans", plan(targets, "Not allowed")).expect(403);
    expect(refused.body.detail).toContain("Only agency admins");
    await agent.post("/app/api/plans/preview", plan(targets)).expect(403);
    await agent.del(`/app/api/plans/${made.body.id}`).expect(403);
    expect(await h.db.blockPlan.count({ where: { title: "Not allowed" } })).toBe(0);
    expect((await admin.get(`/app/api/plans/${made.body.id}?blocks=none`).expect(200)).body.status).toBe("applied");

    await admin.del(`/app/api/plans/${made.body.id}`).expect(202);
    expect((await settled(admin, made.body.id)).status).toBe("deleted");
    const undo = await h.db.auditEvent.findFirst({ where: { action: "plan.deleted", subjectId: made.body.id } });
    expect(undo).toMatchObject({ actorKind: "user", actorId: "u-admin", companyId: CLINICS.id });
  });

  it("names each block of a plan opened again, with its sub-account and calendar", async () => {
    const admin = await signIn(ADMIN);
    const made = await admin
      .post("/app/api/plans", plan([{ locationId: "clinic-ldn", calendarIds: ["ldn-chairs"] }], "Deep clean"))
      .expect(202);
    await settled(admin, made.body.id);
    const res = await admin.get(`/app/api/plans/${made.body.id}`).expect(200);
    expect(res.body.blocks).toEqual([
      expect.objectContaining({
        locationName: "Harbour Clinic London",
        who: "Chairs",
        startTime: "2026-03-02T12:00:00+00:00",
        status: "created",
      }),
      expect.objectContaining({ startTime: "2026-03-03T12:00:00+00:00", status: "created" }),
    ]);
    await admin.del(`/app/api/plans/${made.body.id}`).expect(202);
    await settled(admin, made.body.id);
  });
});
