import request from "supertest";
import { encryptSsoPayload } from "../sandbox/sso-payload";
import { apiAs, installCompany } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { AGENCY, withCalendars } from "./support/sandbox-fixtures";

const SSO_KEY = "shared-secret-of-the-test-app";
const USER = { userId: "u-1", companyId: "agency-1", role: "user", type: "account", userName: "Ada" };
/** A block no other test makes: the calendar window below holds only it. */
const JUNE = { calendarId: "cal-1", startTime: "2030-06-03T09:00:00Z", endTime: "2030-06-03T10:00:00Z" };
const SLOT = { calendarId: "cal-1", startTime: "2030-05-01T12:00:00Z", endTime: "2030-05-01T13:00:00Z" };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    sandbox: { companies: [withCalendars(AGENCY, { "loc-a": ["cal-1"], "loc-b": ["cal-2"] })] },
    env: { HIGHLEVEL_SSO_KEY: SSO_KEY },
  });
  await installCompany(h, "agency-1");
});
afterAll(() => h.close());

/** Signs in as HighLevel's parent frame would make the page do; returns the cookie and CSRF token. */
async function signIn(data: Record<string, unknown>) {
  const res = await request(h.app)
    .post("/app/session")
    .send({ payload: encryptSsoPayload(data, SSO_KEY) })
    .expect(200);
  const cookie = (res.headers["set-cookie"] as unknown as string[])[0]!;
  return { cookie: cookie.split(";")[0]!, setCookie: cookie, csrf: res.body.csrf as string, body: res.body };
}

/** The sources of the page's CSP `frame-ancestors`: who may show it in a frame. */
const frameAncestors = (res: request.Response) =>
  /frame-ancestors ([^;]+)/.exec(String(res.headers["content-security-policy"]))?.[1]?.split(" ");

describe("the custom page's session", () => {
  it("serves /app framable by HighLevel, and opens an httpOnly session for the user's location", async () => {
    const page = await request(h.app).get("/app").expect(200);
    expect(page.headers["x-frame-options"]).toBeUndefined();
    expect(frameAncestors(page)).toEqual(["'self'", "https://app.gohighlevel.com", "https://app.leadconnectorhq.com"]);
    const { setCookie, body } = await signIn({ ...USER, activeLocation: "loc-a" });
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Path=\/app/);
    expect(body).toMatchObject({ locationId: "loc-a", agencyAdmin: false });
  });

  it("refuses a payload that does not decrypt with 401 and a plain explanation", async () => {
    const res = await request(h.app)
      .post("/app/session")
      .send({ payload: encryptSsoPayload({ ...USER, activeLocation: "loc-a" }, "another-secret") })
      .expect(401);
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.body.detail).toContain("could not be verified");
  });

  it("opens one session per payload: the same payload again is refused, however it is spelt", async () => {
    const payload = encryptSsoPayload({ ...USER, activeLocation: "loc-a" }, SSO_KEY);
    await request(h.app).post("/app/session").send({ payload }).expect(200);
    for (const replay of [payload, ` ${payload}\n`]) {
      const res = await request(h.app).post("/app/session").send({ payload: replay }).expect(401);
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(res.body.detail).toContain("already used");
    }
    // The same user, encrypted afresh as HighLevel does for every page load, signs in again.
    await signIn({ ...USER, activeLocation: "loc-a" });
  });

  it("acts only for the session's location, only with the page's CSRF token", async () => {
    const { cookie, csrf } = await signIn({ ...USER, activeLocation: "loc-a" });
    const other = await request(h.app)
      .get("/app/api/location")
      .query({ locationId: "loc-b" })
      .set("Cookie", cookie)
      .expect(403);
    expect(other.body.detail).toContain("signed in for sub-account loc-a, not loc-b");
    await request(h.app).post("/app/api/block-slots").set("Cookie", cookie).send(SLOT).expect(403);
    expect(h.sandbox.state.blockSlots("loc-a")).toEqual([]);
    const made = await request(h.app)
      .post("/app/api/block-slots")
      .query({ locationId: "loc-a" })
      .set("Cookie", cookie)
      .set("X-CSRF-Token", csrf)
      .send(SLOT)
      .expect(201);
    expect(h.sandbox.state.blockSlots("loc-a").map((s) => s.id)).toEqual([made.body.id]);
    const bad = await request(h.app)
      .post("/app/api/block-slots")
      .set("Cookie", cookie)
      .set("X-CSRF-Token", csrf)
      .send({ ...SLOT, endTime: SLOT.startTime })
      .expect(400);
    expect(bad.body.errors).toEqual([{ path: "endTime", message: "must be after startTime" }]);
  });

  it("lists a window of the calendar, and names the field of a window it refuses", async () => {
    const { cookie, csrf } = await signIn({ ...USER, activeLocation: "loc-a" });
    await request(h.app)
      .post("/app/api/block-slots")
      .set("Cookie", cookie)
      .set("X-CSRF-Token", csrf)
      .send(JUNE)
      .expect(201);
    const window = { start: "2030-06-03T00:00:00Z", end: "2030-06-04T00:00:00Z" };
    const listed = await request(h.app).get("/app/api/calendar").query(window).set("Cookie", cookie).expect(200);
    expect(listed.body.events).toMatchObject([{ kind: "block", calendarId: "cal-1", title: "" }]);
    expect(Date.parse(listed.body.events[0].startTime)).toBe(Date.parse(JUNE.startTime));
    const refused = await request(h.app)
      .get("/app/api/calendar")
      .query({ start: window.end, end: window.start })
      .set("Cookie", cookie)
      .expect(400);
    expect(refused.body.errors).toEqual([{ path: "end", message: "must be after start" }]);
    const location = await request(h.app).get("/app/api/location").set("Cookie", cookie).expect(200);
    expect(location.body).toMatchObject({ location: { id: "loc-a", timeZone: expect.any(String) } });
    expect(location.body.calendars).toEqual([{ id: "cal-1", name: "Calendar cal-1" }]);
  });

  it("without a session, or with a forged one, answers 401", async () => {
    await request(h.app).get("/app/api/location").expect(401);
    const { cookie } = await signIn({ ...USER, activeLocation: "loc-a" });
    const [name, value] = cookie.split("=");
    const forged = `${name}=${Buffer.from(JSON.stringify({ userId: "x", companyId: "agency-1", locationId: "loc-b", csrf: "c", exp: 9e9 })).toString("base64url")}.${value!.split(".")[1]}`;
    await request(h.app).get("/app/api/location").set("Cookie", forged).expect(401);
  });

  it("agency admins see and edit blocking rules for their locations; others may not", async () => {
    const admin = await signIn({ ...USER, role: "admin", type: "agency" });
    expect(admin.body).toMatchObject({ locationId: null, agencyAdmin: true });
    const rule = {
      source: { locationId: "loc-a", calendarId: "cal-1" },
      targets: [{ locationId: "loc-b", calendarId: "cal-2" }],
    };
    await request(h.app)
      .post("/app/api/rules")
      .set("Cookie", admin.cookie)
      .set("X-CSRF-Token", admin.csrf)
      .send(rule)
      .expect(201);
    // A rule an integrator made with an API key over these sub-accounts: listed, and the agency's to delete.
    await apiAs(h)
      .post("/api/blocking-rules")
      .send({
        source: { locationId: "loc-b", calendarId: "cal-2" },
        targets: [{ locationId: "loc-a", assignedUserId: "u-9" }],
      })
      .expect(201);
    const listed = await request(h.app).get("/app/api/rules").set("Cookie", admin.cookie).expect(200);
    expect(listed.body.rules).toMatchObject([
      { label: "Bright Smiles Downtown – Calendar cal-1 → Bright Smiles Uptown – Calendar cal-2", own: true },
      { label: "Bright Smiles Uptown – Calendar cal-2 → Bright Smiles Downtown – team member u-9", own: true },
    ]);
    // A rule that also blocks time in another agency's sub-account is listed (it watches this
    // agency's calendar), but not this agency's to delete.
    await h.db.location.create({ data: { id: "loc-elsewhere", companyId: "agency-other", source: "direct" } });
    const across = await apiAs(h)
      .post("/api/blocking-rules")
      .send({
        source: { locationId: "loc-a", calendarId: "cal-1" },
        targets: [{ locationId: "loc-elsewhere", assignedUserId: "u-2" }],
      })
      .expect(201);
    const withAcross = await request(h.app).get("/app/api/rules").set("Cookie", admin.cookie).expect(200);
    expect(withAcross.body.rules.find((r: { id: string }) => r.id === across.body.id)).toMatchObject({ own: false });
    const del = (id: string) =>
      request(h.app).delete(`/app/api/rules/${id}`).set("Cookie", admin.cookie).set("X-CSRF-Token", admin.csrf);
    await del(across.body.id).expect(404);
    // The integrator's rule over this agency's own sub-accounts: the admin deletes it.
    const integrators = listed.body.rules[1] as { id: string };
    await del(integrators.id).expect(204);
    expect(await h.db.blockingRule.count({ where: { id: { in: [integrators.id, across.body.id] } } })).toBe(1);
    await h.db.blockingRule.delete({ where: { id: across.body.id } });
    await h.db.location.delete({ where: { id: "loc-elsewhere" } });

    const agency = await request(h.app).get("/app/api/location").set("Cookie", admin.cookie).expect(200);
    expect(agency.body.agency.locations.map((l: { id: string }) => l.id).sort()).toEqual(["loc-a", "loc-b", "loc-c"]);

    const user = await signIn({ ...USER, activeLocation: "loc-a" });
    const refused = await request(h.app).get("/app/api/rules").set("Cookie", user.cookie).expect(403);
    expect(refused.body.detail).toContain("Only agency admins");
  });
});

describe("framing", () => {
  it("is allowed to the white-label origins in HIGHLEVEL_FRAME_ORIGINS besides HighLevel's own, and no others", async () => {
    const white = await startHarness({
      env: { HIGHLEVEL_SSO_KEY: SSO_KEY, HIGHLEVEL_FRAME_ORIGINS: "https://crm.agency.example" },
    });
    try {
      const page = await request(white.app).get("/app").expect(200);
      expect(frameAncestors(page)).toEqual([
        "'self'",
        "https://app.gohighlevel.com",
        "https://app.leadconnectorhq.com",
        "https://crm.agency.example",
      ]);
    } finally {
      await white.close();
    }
  });
});

describe("without HIGHLEVEL_SSO_KEY", () => {
  it("says the page is not set up, with what to configure", async () => {
    const bare = await startHarness();
    try {
      const res = await request(bare.app).get("/app").expect(503);
      expect(res.text).toContain("HIGHLEVEL_SSO_KEY");
      await request(bare.app).post("/app/session").send({ payload: "x" }).expect(503);
    } finally {
      await bare.close();
    }
  });
});
