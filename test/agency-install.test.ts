import request from "supertest";
import { buildAgency } from "../sandbox";
import { apiAs, finishInstall, installCompany, installIdOf, progressOf } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { deliver, event, webhookSigners } from "./support/webhooks";

const signers = webhookSigners();
/** Three sub-accounts in New York, Chicago and Denver: agency-tz-loc-1 … agency-tz-loc-3. */
const AGENCY = buildAgency(3, { id: "agency-tz", name: "Harbour Dental Group" });
const LOC = (n: number) => `agency-tz-loc-${n}`;
const SLOT = { calendarId: "agency-tz-cal-1", startTime: "2030-05-01T12:00:00Z", endTime: "2030-05-01T13:00:00Z" };

let h: Harness;
afterEach(() => h.close());

/** Nobody works the queue in these tests unless a test works it itself (finishInstall). */
const harness = (sandbox = {}) =>
  startHarness({ sandbox: { companies: [AGENCY], ...sandbox }, env: signers.env }).then((started) => (h = started));

async function callback(companyId = "agency-tz") {
  const res = await request(h.app)
    .get("/oauth/callback")
    .query({ code: h.sandbox.state.issueCode({ companyId }) })
    .expect(200);
  return { page: res.text, installId: installIdOf(res.text) };
}

/** Stores a signed delivery and runs its handler, as the webhook worker would. */
async function handle(payload: Record<string, unknown>) {
  await deliver(h, signers, payload).expect(200);
  await h.services.webhooks.process(payload.webhookId as string);
  return h.db.webhookEvent.findUniqueOrThrow({ where: { id: payload.webhookId as string } });
}

describe("an agency install answers at once", () => {
  it("the callback answers before any mint: every location connecting, one queued mint each", async () => {
    await harness({ companies: [buildAgency(120, { id: "agency-big" })] });
    const { page, installId } = await callback("agency-big");

    expect(h.sandbox.state.mintCount()).toBe(0);
    expect(page).toContain("0 of 120 sub-accounts connected");
    expect(await h.db.location.count({ where: { companyId: "agency-big", status: "connecting" } })).toBe(120);
    const [queued] = await h.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'location-mint'`;
    expect(queued?.n).toBe(120);

    const done = await finishInstall(h, installId, 60_000);
    expect(done.counts).toEqual({ total: 120, connected: 120, failed: 0, connecting: 0 });
    expect(h.sandbox.state.mintCount()).toBe(120);
  }, 90_000);

  it("a call for a location still connecting is told to come back, and mints nothing", async () => {
    await harness();
    await callback();
    const res = await apiAs(h)
      .post(`/api/locations/${LOC(1)}/block-slots`)
      .send(SLOT)
      .expect(503);
    expect(res.body.code).toBe("location_connecting");
    expect(res.headers["retry-after"]).toBe("30");
    expect(h.sandbox.state.mintCount()).toBe(0);
  });

  it("names and time zones appear in /api/installations; the agency's name once HighLevel's INSTALL says it", async () => {
    await harness();
    await installCompany(h, "agency-tz");
    const before = await apiAs(h).get("/api/installations").expect(200);
    expect(before.body.companies).toEqual([expect.objectContaining({ id: "agency-tz", name: null })]);
    expect(before.body.locations.map((l: Record<string, unknown>) => [l.id, l.name, l.timeZone, l.status])).toEqual([
      [LOC(1), "Clinic 1", "America/New_York", "active"],
      [LOC(2), "Clinic 2", "America/Chicago", "active"],
      [LOC(3), "Clinic 3", "America/Denver", "active"],
    ]);

    await handle(event({ type: "INSTALL", appId: "app", companyId: "agency-tz", companyName: "Harbour Dental Group" }));
    const after = await apiAs(h).get("/api/installations").expect(200);
    expect(after.body.companies).toEqual([expect.objectContaining({ id: "agency-tz", name: "Harbour Dental Group" })]);
  });

  it("an INSTALL that arrives before the code exchange names the agency as soon as the exchange is done", async () => {
    await harness();
    // HighLevel sends INSTALL as the consent is given, often before the browser comes back.
    const early = event({ type: "INSTALL", appId: "app", companyId: "agency-tz", companyName: "Harbour Dental Group" });
    await deliver(h, signers, early).expect(200);
    await installCompany(h, "agency-tz");
    // Named from the stored delivery, not only once its retry comes round.
    const res = await apiAs(h).get("/api/installations").expect(200);
    expect(res.body.companies).toEqual([expect.objectContaining({ id: "agency-tz", name: "Harbour Dental Group" })]);
    const delivery = await h.db.webhookEvent.findUniqueOrThrow({ where: { id: early.webhookId } });
    expect(delivery.status).toBe("received");
  });

  it("LocationUpdate reads the location again: a new name and time zone show", async () => {
    await harness();
    await installCompany(h, "agency-tz");
    h.sandbox.state.updateLocation(LOC(2), { name: "Clinic 2 – Lakeside", timezone: "America/Phoenix" });
    // What HighLevel sends: the name, but no time zone.
    const delivery = await handle(
      event({ type: "LocationUpdate", id: LOC(2), companyId: "agency-tz", name: "Clinic 2 – Lakeside" }),
    );
    // Kept as the location's delivery, so the console's webhook page names the location beside this.
    expect(delivery).toMatchObject({
      status: "processed",
      locationId: LOC(2),
      outcome: 'Read again: "Clinic 2 – Lakeside", time zone America/Phoenix.',
    });
    const res = await apiAs(h).get("/api/installations").expect(200);
    expect(res.body.locations).toContainEqual(
      expect.objectContaining({ id: LOC(2), name: "Clinic 2 – Lakeside", timeZone: "America/Phoenix" }),
    );
    expect(h.sandbox.state.invalidRequests()).toEqual([]);
  });

  it("an agency whose locations cannot be listed says why on its page", async () => {
    await harness({ approvedLocations: false });
    h.sandbox.state.failNext(
      { path: "/oauth/installedLocations" },
      { status: 403, body: { statusCode: 403, message: "The token does not have access to this location." } },
    );
    const { installId } = await callback();
    const done = await finishInstall(h, installId);
    expect(done.state).toBe("listing_failed");
    const page = await request(h.app).get(`/oauth/installs/${installId}`).expect(200);
    expect(page.text).toContain("Could not list the agency&#39;s locations");
    expect(page.text).toContain("The token does not have access to this location.");
  });
});

describe("the install page", () => {
  it("refreshes itself without JavaScript while connecting, and stops once every location is done", async () => {
    await harness();
    const { page, installId } = await callback();
    const self = `/oauth/installs/${installId}`;
    expect(page).toContain(`<noscript><meta http-equiv="refresh" content="5;url=${self}"></noscript>`);
    expect(page).toContain('data-live="true"');
    expect(page).toContain('<script src="/static/install-progress.js" defer></script>');

    await finishInstall(h, installId);
    const res = await request(h.app).get(self).expect(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.text).not.toContain('http-equiv="refresh"');
    expect(res.text).toContain('data-live="false"');
    expect(res.text).toContain("Agency installed");
    expect(res.text).toMatch(/Clinic 1<\/span> <code>agency-tz-loc-1<\/code><\/td>\s*<td>America\/New_York<\/td>/);
    expect(res.text).toContain(`href="${h.config.HIGHLEVEL_APP_URL}/"`);
    expect(res.text).toContain('href="/console"');
  });

  it("is reachable only at its own unguessable address", async () => {
    await harness();
    const { installId } = await callback();
    expect(installId).toMatch(/^[A-Za-z0-9_-]{24}$/);
    await request(h.app).get("/oauth/installs/not-an-install").expect(404);
    await request(h.app).get("/oauth/installs/not-an-install/progress").expect(404);
    const progress = await progressOf(h, installId);
    expect(progress).toMatchObject({ state: "connecting", counts: { total: 3, connecting: 3 } });
  });
});

describe("INSTALL webhooks and the code exchange never mint a location twice", () => {
  it("an agency INSTALL after its code exchange mints and lists nothing more", async () => {
    await harness();
    await installCompany(h, "agency-tz");
    const delivery = await handle(event({ type: "INSTALL", appId: "app", companyId: "agency-tz" }));
    expect(delivery.outcome).toContain("connects the locations it covers");
    expect(h.sandbox.state.mintCount()).toBe(3);
    expect(h.sandbox.state.count("GET", "/oauth/installedLocations")).toBe(0);
  });

  it("an agency INSTALL before its first code exchange waits for it, then does nothing of its own", async () => {
    await harness();
    const payload = event({ type: "INSTALL", appId: "app", companyId: "agency-tz" });
    await deliver(h, signers, payload).expect(200);
    await expect(h.services.webhooks.process(payload.webhookId)).rejects.toThrow(/waiting for the install's code/);

    const { installId } = await callback();
    await h.services.webhooks.process(payload.webhookId);
    const delivery = await h.db.webhookEvent.findUniqueOrThrow({ where: { id: payload.webhookId } });
    expect(delivery).toMatchObject({ status: "processed" });
    expect(delivery.outcome).toContain("Handled by the install made in the browser");
    await finishInstall(h, installId);
    expect(h.sandbox.state.mintCount()).toBe(3);
  });

  it("an INSTALL for a location its agency's install is connecting leaves the mint to that install", async () => {
    await harness();
    const { installId } = await callback();
    const delivery = await handle(event({ type: "INSTALL", appId: "app", companyId: "agency-tz", locationId: LOC(1) }));
    expect(delivery.outcome).toContain("being connected by its agency's install");
    await finishInstall(h, installId);
    expect(h.sandbox.state.mintCount(LOC(1))).toBe(1);
    expect(h.sandbox.state.mintCount()).toBe(3);
  });
});
