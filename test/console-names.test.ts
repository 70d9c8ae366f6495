import request from "supertest";
import { apiAs, installCompany } from "./support/api";
import { waitForJob } from "./support/bulk";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { CLINICS } from "./support/plans";
import { LOCATIONS_LISTED } from "../src/console/audit";

/** Office staff and operators read names; the ids stay beside them, small, for support. */
describe("the console names what HighLevel named", () => {
  let h: Harness;
  let cookie: string;
  const get = (path: string) => request(h.app).get(path).set("Cookie", cookie).expect(200);
  const xray = { calendarId: "ny-xray", startTime: "2030-05-01T12:00:00-04:00", endTime: "2030-05-01T13:00:00-04:00" };

  beforeAll(async () => {
    h = await startHarness({ sandbox: { companies: [CLINICS] }, jobs: true });
    await installCompany(h, CLINICS.id);
    for (const location of CLINICS.locations) await h.services.locations.refresh(location.id);
    // The agency's name comes with HighLevel's INSTALL webhook, which this harness does not send.
    await h.db.company.update({ where: { id: CLINICS.id }, data: { name: CLINICS.name } });
    const res = await request(h.app).post("/console/login").type("form").send({ key: TEST_API_KEY }).expect(303);
    cookie = (res.headers["set-cookie"] as unknown as string[])[0]!.split(";")[0]!;
  });
  afterAll(() => h.close());

  it("names a calendar only ever used through the API: the console lists that location's calendars once", async () => {
    const before = await apiAs(h).post("/api/locations/clinic-ny/block-slots").send(xray).expect(201);
    h.sandbox.state.resetRequests();
    const audit = (await get("/console/audit")).text;
    expect(audit).toContain(`${before.body.id}</code> on X-ray <span class="muted small"><code>ny-xray</code>`);
    expect(h.sandbox.state.count("GET", "/calendars/")).toBe(1);
    // Known from now on: the next page asks HighLevel nothing.
    await get("/console/audit");
    expect(h.sandbox.state.count("GET", "/calendars/")).toBe(1);
    // The agency's own records name it too.
    expect(audit).toMatch(/Agency Harbour Clinics <span class="muted small"><code>agency-clinics<\/code>/);
  });

  it("asks again for a calendar HighLevel does not list only after a while, not on every page", async () => {
    // A block on a calendar since deleted in HighLevel: listing the location does not name it.
    await h.db.auditEvent.create({
      data: {
        action: "block.created",
        actorKind: "api_key",
        actorName: "someone",
        locationId: "clinic-ldn",
        companyId: CLINICS.id,
        calendarId: "gone-calendar",
        blockSlotId: "gone-block",
        outcome: "ok",
      },
    });
    h.sandbox.state.resetRequests();
    const first = (await get("/console/audit")).text;
    expect(first).toContain("on calendar <code>gone-calendar</code>");
    const asked = h.sandbox.state.count("GET", "/calendars/");
    expect(asked).toBe(1);
    await get("/console/audit");
    expect(h.sandbox.state.count("GET", "/calendars/")).toBe(asked);
  });

  it("names the location and calendar of a bulk job's failed items, in the location's own time", async () => {
    const items = [
      // Refused at submission (it ends before it starts), on a calendar named since the preview above.
      { locationId: "clinic-ny", ...xray, endTime: "2030-05-01T11:00:00-04:00" },
      // Refused by HighLevel: London has no calendar ny-xray, so it must not read as London's "X-ray".
      { locationId: "clinic-ldn", ...xray },
    ];
    const { body } = await apiAs(h).post("/api/block-slots/bulk?invalid=skip").send({ items }).expect(202);
    await waitForJob(h, body.id);
    const detail = (await get(`/console/jobs/${body.id}`)).text;
    const [ny, ldn] = detail.split('<th scope="row" data-label="Item">').slice(1);
    expect(ny).toContain('Harbour Clinic New York <span class="muted small"><code>clinic-ny</code>');
    expect(ny).toContain('X-ray <span class="muted small"><code>ny-xray</code>');
    expect(ny).toContain(
      '1 May 2030, 12:00</span> – <span class="nowrap">1 May 2030, 11:00</span> <span class="muted small">America/New_York',
    );
    expect(ldn).toContain('Harbour Clinic London <span class="muted small"><code>clinic-ldn</code>');
    expect(ldn).toContain("Calendar <code>ny-xray</code>");
    expect(ldn).toContain("1 May 2030, 17:00");
  });

  it("names the sub-account and agency of a webhook delivery", async () => {
    await h.db.webhookEvent.create({
      data: { id: "wh-names", type: "AppointmentCreate", locationId: "clinic-ny", companyId: CLINICS.id, payload: {} },
    });
    const page = (await get("/console/webhooks")).text;
    expect(page).toContain('Harbour Clinic New York <span class="muted small"><code>clinic-ny</code>');
    expect(page).toContain('Agency Harbour Clinics <span class="muted small"><code>agency-clinics</code>');
  });

  it("asks for a location's name instead of a menu when an agency has more than the menu holds", async () => {
    // An agency at full size: more locations than a menu lists (stored as an install leaves them).
    await h.db.location.createMany({
      data: Array.from({ length: LOCATIONS_LISTED }, (_, i) => ({
        id: `bulk-loc-${i}`,
        companyId: CLINICS.id,
        name: `Harbour Satellite ${String(i).padStart(4, "0")}`,
        source: "agency" as const,
      })),
    });
    const form = (await get("/console/audit")).text;
    expect(form).not.toContain('<select id="locationId"');
    expect(form).toContain('<input id="q" name="q" type="search"');

    // Part of a name that several share: they are offered, no records yet.
    const several = (await get("/console/audit?q=harbour+clinic")).text;
    expect(several).toContain("Several locations match “harbour clinic”");
    expect(several).toContain('<a href="/console/audit?locationId=clinic-ldn">Harbour Clinic London</a>');
    expect(several).not.toContain("<table");

    // One match: its records, the block made on X-ray above among them.
    const one = (await get("/console/audit?q=new+york")).text;
    expect(one).toContain("The only record for <strong>Harbour Clinic New York</strong>");
    expect(one).toContain("Block created");
    expect(one).not.toContain("Harbour Clinic London <span");

    const none = (await get("/console/audit?q=nowhere+at+all")).text;
    expect(none).toContain("No location matches “nowhere at all”.");
  });

  it("links an install's record to its install page while that page is kept", async () => {
    const install = await h.db.install.findFirstOrThrow({ where: { kind: "company", companyId: CLINICS.id } });
    const audit = (await get("/console/audit?who=sso_user")).text;
    expect(audit).toContain(
      `<a href="/oauth/installs/${install.id}">Install page</a>: which sub-accounts it connected`,
    );
    await request(h.app).get(`/oauth/installs/${install.id}`).expect(200);
    // Install pages are kept a week: once purged, the record shows the install's id alone.
    await h.db.install.delete({ where: { id: install.id } });
    const later = (await get("/console/audit?who=sso_user")).text;
    expect(later).not.toContain(`/oauth/installs/${install.id}`);
    expect(later).toContain(`<code>${install.id}</code>`);
  });

  it("says which agency or sub-account a scoped key reaches by its name", async () => {
    const signIn = async (key: string) => {
      const res = await request(h.app).post("/console/login").type("form").send({ key }).expect(303);
      const own = (res.headers["set-cookie"] as unknown as string[])[0]!.split(";")[0]!;
      return (await request(h.app).get("/console").set("Cookie", own).expect(200)).text;
    };
    const agency = await h.services.apiKeys.create("Harbour ops", { scope: "company", companyId: CLINICS.id });
    expect(await signIn(agency.key)).toContain('<span class="muted">· agency Harbour Clinics</span>');
    const desk = await h.services.apiKeys.create("NY desk", { scope: "location", locationId: "clinic-ny" });
    expect(await signIn(desk.key)).toContain('<span class="muted">· location Harbour Clinic New York</span>');
  });
});
