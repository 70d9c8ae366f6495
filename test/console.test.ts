import request from "supertest";
import { SessionSigner } from "../src/auth/session-cookie";
import { apiAs, installCompany } from "./support/api";
import { waitForJob } from "./support/bulk";
import { TEST_API_KEY, startHarness, type Harness } from "./support/harness";
import { AGENCY, SOLO } from "./support/sandbox-fixtures";

let h: Harness;
afterEach(() => h.close());

const setCookies = (res: request.Response): string[] => (res.headers["set-cookie"] as unknown as string[]) ?? [];
const consoleCookie = (res: request.Response) => setCookies(res).find((c) => c.startsWith("hlbs_console="));

/** Signs in through the form and returns the `name=value` to send back. */
async function signIn(key = TEST_API_KEY): Promise<string> {
  const res = await request(h.app).post("/console/login").type("form").send({ key }).expect(303);
  const cookie = consoleCookie(res);
  expect(cookie).toBeDefined();
  return cookie!.split(";")[0]!;
}
const get = (path: string, cookie: string) => request(h.app).get(path).set("Cookie", cookie);
const isLoginPage = (res: request.Response) => res.text.includes('<label for="key">API key</label>');

describe("console sign-in", () => {
  beforeEach(async () => {
    h = await startHarness({ sandbox: { companies: [AGENCY, SOLO] } });
  });

  it("shows the login page, as HTML, without a session", async () => {
    const res = await request(h.app).get("/console").expect(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(isLoginPage(res)).toBe(true);
    expect(res.text).toMatch(/<input id="key" name="key" type="password"/);
    expect(res.text).toContain("API_KEYS");
    expect(res.text).toContain("npm run api-key -- create");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(consoleCookie(res)).toBeUndefined();
  });

  it("refuses a wrong key with 401, no cookie, and without repeating or logging the key", async () => {
    const wrong = "wrong-key-do-not-echo-5d1f";
    const res = await request(h.app).post("/console/login").type("form").send({ key: wrong }).expect(401);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.text).toContain("That API key is not valid");
    expect(res.text).not.toContain(wrong);
    expect(consoleCookie(res)).toBeUndefined();
    expect(h.logs.text).not.toContain(wrong);

    const empty = await request(h.app).post("/console/login").type("form").send({}).expect(401);
    expect(empty.text).toContain("Enter an API key");
  });

  it("signs in with a good key: 303 to /console and an httpOnly cookie limited to /console", async () => {
    const res = await request(h.app).post("/console/login").type("form").send({ key: TEST_API_KEY }).expect(303);
    expect(res.headers.location).toBe("/console");
    const cookie = consoleCookie(res)!;
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; Path=\/console(;|$)/);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Max-Age=28800/);
    expect(cookie).not.toContain(TEST_API_KEY);
    expect(h.logs.text).not.toContain(TEST_API_KEY);
  });

  it("returns to the page asked for after signing in, but never to another site", async () => {
    const jobs = await request(h.app).get("/console/jobs").expect(200);
    expect(jobs.text).toContain('<input type="hidden" name="next" value="/console/jobs">');
    const back = await request(h.app)
      .post("/console/login")
      .type("form")
      .send({ key: TEST_API_KEY, next: "/console/jobs" });
    expect(back.headers.location).toBe("/console/jobs");
    for (const next of ["//evil.example/console", "https://evil.example", "/consolex", "/console//evil.example"]) {
      const res = await request(h.app).post("/console/login").type("form").send({ key: TEST_API_KEY, next });
      expect(res.headers.location).toBe("/console");
    }
  });

  it("refuses a forged or altered cookie and shows the login page", async () => {
    const cookie = await signIn();
    const [body, mac] = cookie.slice("hlbs_console=".length).split(".");
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString());
    expect(claims.principal.scope).toBe("all");

    const altered = Buffer.from(JSON.stringify({ ...claims, principal: { ...claims.principal, name: "me" } }));
    const tampered = `hlbs_console=${altered.toString("base64url")}.${mac}`;
    const res = await get("/console", tampered).expect(200);
    expect(isLoginPage(res)).toBe(true);
    expect(consoleCookie(res)).toMatch(/^hlbs_console=;/); // the bad cookie is cleared

    // Signed with the server's secret, but for another purpose (the custom page's sessions).
    const otherPurpose = new SessionSigner(h.services.sessionSecret, "app", 3600).sign({ principal: claims.principal });
    expect(isLoginPage(await get("/console", `hlbs_console=${otherPurpose}`))).toBe(true);

    expect(isLoginPage(await get("/console", cookie))).toBe(false);
  });

  it("signs out: the cookie is cleared and the console asks for a key again", async () => {
    const cookie = await signIn();
    const res = await request(h.app).post("/console/logout").set("Cookie", cookie).expect(303);
    expect(res.headers.location).toBe("/console");
    const cleared = consoleCookie(res)!;
    expect(cleared).toMatch(/^hlbs_console=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(cleared).toMatch(/; Path=\/console(;|$)/);
    expect(isLoginPage(await request(h.app).get("/console"))).toBe(true);
  });

  it("signing out ends the session on the server: a copy of the old cookie no longer works", async () => {
    const cookie = await signIn();
    const kept = await signIn(); // the same key signed in elsewhere keeps its own session
    await request(h.app).post("/console/logout").set("Cookie", cookie).expect(303);
    expect(isLoginPage(await get("/console", cookie))).toBe(true);
    expect(isLoginPage(await get("/console", kept))).toBe(false);
    expect(await h.db.consoleSession.count()).toBe(1);
  });

  it("over https the cookie is still SameSite=Lax, and Secure: the console is never framed", async () => {
    await h.close();
    h = await startHarness({ env: { APP_BASE_URL: "https://blocks.example.com" } });
    const res = await request(h.app).post("/console/login").type("form").send({ key: TEST_API_KEY }).expect(303);
    const cookie = consoleCookie(res)!;
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).not.toMatch(/Partitioned/i);
  });

  it("ends the session of a key that is revoked", async () => {
    const created = await h.services.apiKeys.create("Temp", { scope: "all" });
    const cookie = await signIn(created.key);
    expect(isLoginPage(await get("/console", cookie))).toBe(false);
    await h.services.apiKeys.revoke(created.id);
    expect(isLoginPage(await get("/console", cookie))).toBe(true);
  });

  it("refuses console forms posted from another site", async () => {
    const res = await request(h.app)
      .post("/console/login")
      .set("Origin", "https://evil.example")
      .type("form")
      .send({ key: TEST_API_KEY })
      .expect(403);
    expect(consoleCookie(res)).toBeUndefined();
    const crossSite = await request(h.app)
      .post("/console/login")
      .set("Sec-Fetch-Site", "cross-site")
      .type("form")
      .send({ key: TEST_API_KEY })
      .expect(403);
    expect(consoleCookie(crossSite)).toBeUndefined();
    // A browser posting the console's own form (Origin may be "null" under a strict referrer policy).
    await request(h.app)
      .post("/console/login")
      .set("Sec-Fetch-Site", "same-origin")
      .set("Origin", "null")
      .type("form")
      .send({ key: TEST_API_KEY })
      .expect(303);
    await request(h.app)
      .post("/console/login")
      .set("Origin", "http://127.0.0.1:3999")
      .type("form")
      .send({ key: TEST_API_KEY })
      .expect(303);
  });
});

describe("console pages", () => {
  beforeEach(async () => {
    h = await startHarness({ sandbox: { companies: [AGENCY, SOLO] }, jobs: true });
  });

  it("lists companies and locations with their status, and shows the signed-in key", async () => {
    await installCompany(h, "agency-1");
    const res = await get("/console", await signIn()).expect(200);
    // HighLevel's INSTALL webhook has not named the agency yet: its id shows, marked so.
    expect(res.text).toMatch(
      /<code>agency-1<\/code> <span class="muted">\(name not known yet\)<\/span>[\s\S]*?aria-label="3 locations of agency-1">3</,
    );
    expect(res.text).toMatch(/Bright Smiles Downtown<\/span> <code>loc-a<\/code>[\s\S]*?badge good">Connected/);
    expect(res.text).toMatch(/Bright Smiles Uptown<\/span> <code>loc-b<\/code>[\s\S]*?badge good">Connected/);
    expect(res.text).toMatch(/Bright Smiles Airport<\/span> <code>loc-c<\/code>[\s\S]*?badge bad">Could not connect/);
    expect(res.text).toContain("Location is not active"); // loc-c's last error
    expect(res.text).toContain("Signed in as <strong>Test operator</strong>"); // the name given in API_KEYS
    expect(res.text).toContain('<a href="/console" aria-current="page">Installations</a>');
    expect(res.text).toMatch(/<th scope="col">Location<\/th>/);
    expect(res.text).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">\d{4}-\d\d-\d\d [\d:]{8} UTC<\/time>/);
  });

  it("filters locations by ?status=", async () => {
    await installCompany(h, "agency-1");
    const cookie = await signIn();
    const failed = await get("/console?status=failed", cookie).expect(200);
    expect(failed.text).toContain("<code>loc-c</code>");
    expect(failed.text).not.toContain("<code>loc-a</code>");
    // One status control: the links with counts; the search form carries the chosen status along.
    expect(failed.text).toMatch(/<a href="\/console\?status=failed" aria-current="page"[^>]*>Could not connect/);
    expect(failed.text).not.toContain("<select");
    expect(failed.text).toContain('<input type="hidden" name="status" value="failed">');
    // Plain English, whatever the status: not "that is could not connect".
    expect(failed.text).toMatch(/that <strong>could not connect<\/strong>/);
    const active = await get("/console?status=active", cookie).expect(200);
    expect(active.text).toContain("<code>loc-a</code>");
    expect(active.text).not.toContain("<code>loc-c</code>");
    const none = await get("/console?status=uninstalled", cookie).expect(200);
    expect(none.text).toContain("No sub-account <strong>is uninstalled</strong> right now.");
    const reinstall = await get("/console?status=reauthorization_required", cookie).expect(200);
    expect(reinstall.text).toContain("No sub-account <strong>needs a reinstall</strong> right now.");
  });

  it("offers a reinstall for a location whose connection HighLevel no longer accepts", async () => {
    await installCompany(h, "agency-2");
    const cookie = await signIn();
    const before = await get("/console", cookie).expect(200);
    expect(before.text).not.toContain('href="/oauth/install">Reinstall');
    await h.db.location.update({ where: { id: "loc-solo" }, data: { status: "reauthorization_required" } });
    const after = await get("/console", cookie).expect(200);
    expect(after.text).toContain('badge bad">Needs reinstall');
    expect(after.text).toContain('<a class="button small" href="/oauth/install">Reinstall');
    expect(after.text).toContain("HighLevel no longer accepts the app's connection");
  });

  it("escapes names that came from HighLevel", async () => {
    await installCompany(h, "agency-2");
    await h.db.location.update({ where: { id: "loc-solo" }, data: { name: "<img src=x onerror=alert(1)>" } });
    const res = await get("/console", await signIn()).expect(200);
    expect(res.text).not.toContain("<img src=x");
    expect(res.text).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("shows a company key only its own agency, and no webhook deliveries", async () => {
    await installCompany(h, "agency-1");
    await installCompany(h, "agency-2");
    await h.db.webhookEvent.create({ data: { id: "wh-1", type: "INSTALL", payload: {}, status: "processed" } });
    const { key } = await h.services.apiKeys.create("Solo ops", { scope: "company", companyId: "agency-2" });
    const cookie = await signIn(key);

    const res = await get("/console", cookie).expect(200);
    expect(res.text).toContain("<code>loc-solo</code>");
    expect(res.text).toContain('<code>agency-2</code> <span class="muted">(name not known yet)</span>');
    expect(res.text).not.toContain("agency-1");
    expect(res.text).not.toContain("<code>loc-a</code>");
    expect(res.text).not.toContain("Bright Smiles");
    expect(res.text).toContain("agency agency-2");
    // A filter in the address cannot widen the key's scope.
    const widened = await get("/console?agency=agency-1", cookie).expect(200);
    expect(widened.text).not.toContain("<code>loc-a</code>");

    const hooks = await get("/console/webhooks", cookie).expect(403);
    expect(hooks.headers["content-type"]).toContain("text/html");
    expect(hooks.text).toContain("Only full-access keys see deliveries");
    expect(hooks.text).not.toContain("wh-1");
    expect(hooks.text).not.toContain("INSTALL");
  });

  it("lists bulk jobs with their progress, and a detail page with each failure", async () => {
    await installCompany(h, "agency-1");
    const items = [
      {
        locationId: "loc-a",
        calendarId: "cal-1",
        startTime: "2030-05-01T12:00:00+02:00",
        endTime: "2030-05-01T13:00:00+02:00",
      },
      {
        locationId: "nowhere",
        calendarId: "cal-1",
        startTime: "2030-05-01T12:00:00+02:00",
        endTime: "2030-05-01T13:00:00+02:00",
      },
    ];
    const { body } = await apiAs(h).post("/api/block-slots/bulk").send({ items }).expect(202);
    await waitForJob(h, body.id);
    const cookie = await signIn();

    const list = await get("/console/jobs", cookie).expect(200);
    expect(list.text).toContain(`href="/console/jobs/${body.id}"`);
    expect(list.text).toContain('badge bad">Done with errors');
    expect(list.text).toMatch(/role="progressbar"[^>]*aria-valuemax="2" aria-valuenow="2"/);
    expect(list.text).toContain("1 succeeded, 0 already there, 1 failed, 0 cancelled, 0 pending");
    expect(list.text).toContain('<td data-label="Source">API</td>');

    const detail = await get(`/console/jobs/${body.id}`, cookie).expect(200);
    expect(detail.text).toMatch(/<code>nowhere<\/code>[\s\S]*?location_not_installed/);
    expect(detail.text).not.toMatch(/<code>loc-a<\/code>/); // only failed items are listed
    expect(detail.text).toContain(`GET /api/block-slots/bulk/${body.id}`);
    // Finished: the page stays still.
    expect(detail.text).not.toContain('http-equiv="refresh"');

    // Under way (an item still pending, with no queue entry to work it): the page follows it by itself.
    const waiting = await h.db.bulkJob.create({ data: { owner: "someone", source: "api", total: 1 } });
    await h.db.bulkItem.create({
      data: { jobId: waiting.id, index: 0, ...items[0]! },
    });
    const following = await get(`/console/jobs/${waiting.id}`, cookie).expect(200);
    expect(following.text).toContain('<meta http-equiv="refresh" content="5">');

    // Another key's jobs are neither listed nor readable.
    const { key } = await h.services.apiKeys.create("Solo ops", { scope: "company", companyId: "agency-2" });
    const other = await signIn(key);
    const theirs = await get("/console/jobs", other).expect(200);
    expect(theirs.text).not.toContain(body.id);
    expect(theirs.text).toContain("No bulk jobs yet.");
    await get(`/console/jobs/${body.id}`, other).expect(404);
    await get("/console/jobs/not-a-uuid", cookie).expect(404);
  });

  it("shows a CSV job's failed rows by line, and serves them as a neutralised CSV to its own key only", async () => {
    await installCompany(h, "agency-1");
    const csv = [
      "locationId,calendarId,assignedUserId,startTime,endTime,title",
      'loc-a,cal-1,,2030-05-02T12:00:00Z,2030-05-02T13:00:00Z,"Two\nlines"',
      "loc-a,cal-1,,2030-05-02T14:00:00Z,2030-05-02T13:00:00Z,@SUM(A1:A9)",
      "nowhere,cal-1,,2030-05-02T12:00:00Z,2030-05-02T13:00:00Z,-2+3",
    ].join("\n");
    const { body } = await apiAs(h).post("/api/block-slots/bulk?invalid=skip").type("text/csv").send(csv).expect(202);
    await waitForJob(h, body.id);
    const cookie = await signIn();

    const detail = await get(`/console/jobs/${body.id}`, cookie).expect(200);
    expect(detail.text).toMatch(/Line 4<\/th>[\s\S]*?invalid_request[\s\S]*?endTime: must be after startTime/);
    expect(detail.text).toMatch(/Line 5<\/th>[\s\S]*?<code>nowhere<\/code>[\s\S]*?location_not_installed/);
    expect(detail.text).toContain(`href="/console/jobs/${body.id}/failed.csv"`);

    const file = await get(`/console/jobs/${body.id}/failed.csv`, cookie).expect(200);
    expect(file.headers["content-type"]).toContain("text/csv");
    expect(file.headers["content-disposition"]).toContain(`bulk-job-${body.id}-failed.csv`);
    expect(file.text.trim().split("\n")).toEqual([
      "line,errorCode,errorDetail,locationId,calendarId,assignedUserId,startTime,endTime,title",
      "4,invalid_request,endTime: must be after startTime,loc-a,cal-1,,2030-05-02T14:00:00Z,2030-05-02T13:00:00Z,'@SUM(A1:A9)",
      expect.stringMatching(
        /^5,location_not_installed,.*,nowhere,cal-1,,2030-05-02T12:00:00Z,2030-05-02T13:00:00Z,'-2\+3$/,
      ),
    ]);

    const { key } = await h.services.apiKeys.create("Solo ops", { scope: "company", companyId: "agency-2" });
    await get(`/console/jobs/${body.id}/failed.csv`, await signIn(key)).expect(404);
    const signedOut = await request(h.app).get(`/console/jobs/${body.id}/failed.csv`).expect(200);
    expect(isLoginPage(signedOut)).toBe(true);
  });

  it("cancels a job that has not started from its detail page", async () => {
    await h.services.stopJobs(); // nobody works the queue: the job stays queued
    const items = [
      { locationId: "loc-a", calendarId: "cal-1", startTime: "2030-05-01T12:00:00Z", endTime: "2030-05-01T13:00:00Z" },
    ];
    const { body } = await apiAs(h).post("/api/block-slots/bulk").send({ items }).expect(202);
    const cookie = await signIn();
    const detail = await get(`/console/jobs/${body.id}`, cookie).expect(200);
    expect(detail.text).toContain('badge neutral">Queued');
    expect(detail.text).toContain(`action="/console/jobs/${body.id}/cancel"`);
    const res = await request(h.app).post(`/console/jobs/${body.id}/cancel`).set("Cookie", cookie).expect(303);
    expect(res.headers.location).toBe(`/console/jobs/${body.id}`);
    const after = await get(`/console/jobs/${body.id}`, cookie).expect(200);
    expect(after.text).toContain('badge neutral">Cancelled');
    expect(after.text).not.toContain('/cancel"');
  });

  it("lists webhook deliveries for a full-access key, filtered by status", async () => {
    await h.db.webhookEvent.create({
      data: {
        id: "wh-1",
        type: "INSTALL",
        locationId: "loc-a",
        payload: {},
        status: "processed",
        outcome: "Already connected: nothing to do.",
        attempts: 1,
      },
    });
    const cookie = await signIn();
    const res = await get("/console/webhooks", cookie).expect(200);
    expect(res.text).toMatch(
      /<code class="code-word">INSTALL<\/code>[\s\S]*?<code>loc-a<\/code>[\s\S]*?badge good">Processed[\s\S]*?Already connected: nothing to do\./,
    );
    expect(res.text).toContain("The only delivery.");
    expect(res.text).toContain('<a href="/console/webhooks" aria-current="page">Webhooks</a>');
    const failedOnly = await get("/console/webhooks?status=failed", cookie).expect(200);
    expect(failedOnly.text).not.toContain("Already connected: nothing to do.");
    expect(failedOnly.text).toContain("No delivery is <strong>failed</strong>.");
  });

  it("shows the audit trail with location and key names, filtered by location and within the key's scope", async () => {
    await installCompany(h, "agency-1");
    const desk = await h.services.apiKeys.create("Front desk", { scope: "location", locationId: "loc-a" });
    const slot = { calendarId: "cal-1", startTime: "2030-05-01T12:00:00+02:00", endTime: "2030-05-01T13:00:00+02:00" };
    const onA = await apiAs(h, desk.key).post("/api/locations/loc-a/block-slots").send(slot).expect(201);
    const onB = await apiAs(h).post("/api/locations/loc-b/block-slots").send(slot).expect(201);

    const cookie = await signIn();
    const all = await get("/console/audit", cookie).expect(200);
    expect(all.text).toContain('<a href="/console/audit" aria-current="page">Audit</a>');
    expect(all.text).toMatch(
      new RegExp(
        `Block created[\\s\\S]*?${onA.body.id}[\\s\\S]*?API key <strong>Front desk</strong>[\\s\\S]*?Bright Smiles Downtown`,
      ),
    );
    expect(all.text).toContain(onB.body.id);
    expect(all.text).toMatch(/<time datetime="[^"]+Z">\d{4}-\d\d-\d\d [\d:]{8} UTC<\/time>/);
    expect(all.text).toContain("Agency installed");

    const onlyB = await get("/console/audit?locationId=loc-b", cookie).expect(200);
    expect(onlyB.text).toContain(onB.body.id);
    expect(onlyB.text).not.toContain(onA.body.id);

    // "Who": the install was made by a HighLevel user, the blocks by API keys.
    const byUsers = await get("/console/audit?who=sso_user", cookie).expect(200);
    expect(byUsers.text).toContain("Agency installed");
    expect(byUsers.text).toContain("by <strong>HighLevel users</strong>");
    expect(byUsers.text).toContain('<option value="sso_user" selected>');
    expect(byUsers.text).not.toContain(onA.body.id);
    const byKeys = await get("/console/audit?who=api_key&locationId=loc-b", cookie).expect(200);
    expect(byKeys.text).toContain(onB.body.id);
    expect(byKeys.text).not.toContain("Agency installed");
    // Anything else is no filter at all.
    expect((await get("/console/audit?who=toString", cookie).expect(200)).text).toContain(onA.body.id);

    const scoped = await get("/console/audit", await signIn(desk.key)).expect(200);
    expect(scoped.text).toContain(onA.body.id);
    expect(scoped.text).not.toContain(onB.body.id);
  });

  it("answers unknown console pages with an HTML 404 inside the console", async () => {
    const res = await get("/console/nope", await signIn()).expect(404);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.text).toContain("There is no console page at this address.");
  });
});

describe("times in the operator's zone", () => {
  beforeEach(async () => {
    h = await startHarness({ sandbox: { companies: [AGENCY] } });
    await installCompany(h, "agency-1");
  });

  const cookiesOf = (res: request.Response) => setCookies(res).map((c) => c.split(";")[0]!);
  const times = (html: string) => [...html.matchAll(/<time datetime="([^"]+)">([^<]+)<\/time>/g)];
  /** The wall clock of `iso` in `zone`, by the browser's own rules (Intl), not the app's code. */
  const wallClock = (iso: string, zone: string) =>
    new Date(iso).toLocaleString("sv-SE", { timeZone: zone, hour12: false }).replace(",", "");

  it("shows every time in the zone the browser sent at sign-in, with the zone named", async () => {
    const login = await request(h.app)
      .post("/console/login")
      .type("form")
      .send({ key: TEST_API_KEY, tz: "America/New_York" })
      .expect(303);
    const page = await get("/console", cookiesOf(login).join("; ")).expect(200);
    expect(page.text).toMatch(
      /Times in <a href="\/console\/time-zone\?next=%2Fconsole"[^>]*>America\/New_York \(UTC-0[45]:00\)<\/a>/,
    );
    const shown = times(page.text);
    expect(shown.length).toBeGreaterThan(0);
    for (const [, iso, text] of shown)
      expect(text).toBe(`${wallClock(iso!, "America/New_York")} ${/E[SD]T$/.exec(text!)?.[0]}`);
  });

  it("shows UTC without a zone, and keeps the zone the operator picks over the browser's", async () => {
    const cookie = await signIn();
    const before = await get("/console/jobs", cookie).expect(200);
    expect(before.text).toContain("Times in <a");
    expect(before.text).toMatch(/>UTC<\/a>/);

    const form = await get("/console/time-zone?next=/console", cookie).expect(200);
    expect(form.text).toContain('<option value="UTC" selected>UTC</option>');
    expect(form.text).toContain('<option value="Asia/Tokyo">Asia/Tokyo</option>');
    const bad = await request(h.app)
      .post("/console/time-zone")
      .set("Cookie", cookie)
      .type("form")
      .send({ zone: "Mars/Olympus_Mons", next: "/console" })
      .expect(400);
    expect(bad.text).toContain("Pick a time zone from the list.");
    expect(cookiesOf(bad)).toEqual([]);

    const saved = await request(h.app)
      .post("/console/time-zone")
      .set("Cookie", cookie)
      .type("form")
      .send({ zone: "Asia/Kolkata", next: "/console" })
      .expect(303);
    expect(saved.headers.location).toBe("/console");
    const zone = cookiesOf(saved).find((c) => c.startsWith("console_tz="))!;
    const page = await get("/console", `${cookie}; ${zone}`).expect(200);
    for (const [, iso, text] of times(page.text)) expect(text).toBe(`${wallClock(iso!, "Asia/Kolkata")} GMT+5:30`);
    const picker = await get("/console/time-zone", `${cookie}; ${zone}`).expect(200);
    expect(picker.text).toContain('<option value="Asia/Kolkata" selected>Asia/Kolkata</option>');

    // Signing in again from a browser in another zone does not undo the choice.
    const again = await request(h.app)
      .post("/console/login")
      .set("Cookie", zone)
      .type("form")
      .send({ key: TEST_API_KEY, tz: "Europe/London" })
      .expect(303);
    expect(cookiesOf(again).some((c) => c.startsWith("console_tz="))).toBe(false);
  });
});
