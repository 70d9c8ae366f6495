import request from "supertest";
import { apiAs, installCompany } from "./support/api";
import { waitForJob } from "./support/bulk";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { CLINICS, PLANS } from "./support/plans";

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

  it("names a calendar once the app has listed the location's calendars", async () => {
    const before = await apiAs(h).post("/api/locations/clinic-ny/block-slots").send(xray).expect(201);
    // Nothing has listed the calendars yet: the id is all the app knows.
    expect((await get("/console/audit")).text).toContain("on calendar <code>ny-xray</code>");

    // A plan's preview lists every calendar of the agency's locations, as HighLevel names them.
    const plan = { title: "Lunch", targets: [{ companyId: CLINICS.id, calendars: "all" }] };
    await apiAs(h)
      .post(`${PLANS}/preview`)
      .send({ ...plan, schedule: { start: "2030-06-01T12:00", end: "2030-06-01T13:00" } })
      .expect(200);
    const audit = (await get("/console/audit")).text;
    expect(audit).toContain(`${before.body.id}</code> on X-ray <span class="muted small"><code>ny-xray</code>`);
    // The agency's own records name it too.
    expect(audit).toMatch(/Agency Harbour Clinics <span class="muted small"><code>agency-clinics<\/code>/);
  });

  it("names the location and calendar of a bulk job's failed item", async () => {
    // HighLevel refuses a block on a calendar this location does not have (named since the preview above).
    const items = [
      { locationId: "clinic-ny", ...xray },
      { locationId: "clinic-ldn", ...xray },
    ];
    const { body } = await apiAs(h).post("/api/block-slots/bulk").send({ items }).expect(202);
    await waitForJob(h, body.id);
    const detail = (await get(`/console/jobs/${body.id}`)).text;
    expect(detail).toContain('Harbour Clinic London <span class="muted small"><code>clinic-ldn</code>');
    expect(detail).toContain('X-ray <span class="muted small"><code>ny-xray</code>');
  });

  it("names the sub-account and agency of a webhook delivery", async () => {
    await h.db.webhookEvent.create({
      data: { id: "wh-names", type: "AppointmentCreate", locationId: "clinic-ny", companyId: CLINICS.id, payload: {} },
    });
    const page = (await get("/console/webhooks")).text;
    expect(page).toContain('Harbour Clinic New York <span class="muted small"><code>clinic-ny</code>');
    expect(page).toContain('Agency Harbour Clinics <span class="muted small"><code>agency-clinics</code>');
  });
});
