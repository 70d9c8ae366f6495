import http, { type Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import type { SandboxCompany } from "../../sandbox";
import { encryptSsoPayload } from "../../sandbox/sso-payload";
import { installCompany } from "../support/api";
import { closeServer, describeInBrowser, freePort, launchBrowser, listen, screenshot } from "../support/browser";
import { startHarness, type Harness } from "../support/harness";

const SSO_KEY = "shared-secret-of-the-test-app";
const CLINICS: SandboxCompany = {
  id: "agency-7",
  name: "Harbour Health",
  locations: [
    {
      id: "loc-page",
      name: "Harbour Clinic",
      timezone: "America/New_York",
      calendars: [{ id: "cal-chairs", name: "Dental chairs" }],
    },
    {
      id: "loc-other",
      name: "Hillside Clinic",
      timezone: "Europe/London",
      calendars: [{ id: "cal-hill", name: "Rooms" }],
    },
  ],
};

describeInBrowser("pages in a real browser", () => {
  let h: Harness;
  let app: { url: string; server: Server };
  let browser: Browser;
  /** Another page that frames /app, standing in for a white-label HighLevel domain. */
  let host: { origin: string; server: Server };
  beforeAll(async () => {
    const [port, sandboxPort, hostPort] = [await freePort(), await freePort(), await freePort()];
    host = { origin: `http://127.0.0.1:${hostPort}`, server: await serveHost(hostPort) };
    h = await startHarness({
      sandbox: { companies: [CLINICS], port: sandboxPort },
      env: {
        HIGHLEVEL_SSO_KEY: SSO_KEY,
        APP_BASE_URL: `http://127.0.0.1:${port}`,
        // The sandbox plays HighLevel from its own origin; the test's host page is a white-label domain.
        HIGHLEVEL_FRAME_ORIGINS: `http://127.0.0.1:${sandboxPort} ${host.origin}`,
      },
    });
    app = await listen(h.app, port);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await closeServer(app.server);
    await closeServer(host.server);
    await h.close();
  });

  /**
   * `/host?app=URL`: a screen that frames the app (#app) beside another frame (#other) and answers
   * nothing itself; `/other`: an empty page. The test speaks for each window.
   */
  function serveHost(port: number): Promise<Server> {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const body =
        url.pathname === "/host"
          ? `<!doctype html><iframe id="app" src="${url.searchParams.get("app") ?? ""}/app"></iframe><iframe id="other" src="/other"></iframe>`
          : "<!doctype html><p>another app</p>";
      res.writeHead(200, { "content-type": "text/html" }).end(body);
    });
    return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
  }

  const payloadFor = (locationId: string) =>
    encryptSsoPayload(
      { userId: "u-1", companyId: "agency-7", role: "admin", type: "account", activeLocation: locationId },
      SSO_KEY,
    );

  /** HighLevel's answer to REQUEST_USER_DATA, as a script expression. */
  const answer = (payload: string) => JSON.stringify({ message: "REQUEST_USER_DATA_RESPONSE", payload });

  /** Counts the page's sign-ins, and lets the test wait until the app frame has received `n` messages. */
  async function watch(page: Page) {
    let signIns = 0;
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/app/session")) signIns += 1;
    });
    const frame = page.frame({ url: `${app.url}/app` })!;
    await frame.evaluate(`window.received = 0; window.addEventListener("message", () => (window.received += 1));`);
    return {
      signIns: () => signIns,
      received: (n: number) => frame.waitForFunction(`window.received >= ${n}`),
    };
  }

  it("agency view: sub-accounts in a table, and a blocking rule made and listed by names", async () => {
    await installCompany(h, "agency-7");
    h.sandbox.state.customPage = { appUrl: app.url, ssoKey: SSO_KEY };
    const page = await browser.newPage({ viewport: { width: 1100, height: 1100 }, timezoneId: "Asia/Tokyo" });
    try {
      await page.goto(`${h.sandbox.url}/_sandbox/app`);
      const frame = page.frameLocator("#app");
      const row = frame.getByRole("row", { name: /Harbour Clinic/ });
      // allTextContents() does not wait: the table appears only after the page has signed in.
      await row.waitFor();
      await expect(row.getByRole("cell").allTextContents()).resolves.toEqual([
        "Harbour Clinic",
        "Connected",
        "America/New_York",
        "Open",
      ]);
      // The link opens the sub-account in HighLevel's own window (the sandbox plays HighLevel).
      await expect(row.getByRole("link").getAttribute("href")).resolves.toMatch(/\/v2\/location\/loc-page$/);

      await frame.getByRole("button", { name: "Add rule" }).click();
      await frame.getByText("Choose a sub-account.").first().waitFor();
      await frame.getByLabel("When booked in (sub-account)").selectOption({ label: "Harbour Clinic" });
      await frame.getByLabel("block the same time in (sub-account)").selectOption({ label: "Hillside Clinic" });
      await frame.getByLabel("on (calendar or team member)").first().selectOption({ label: "Dental chairs" });
      await frame.getByLabel("on (calendar or team member)").last().selectOption({ label: "Rooms" });
      await frame.getByRole("button", { name: "Add rule" }).click();
      await frame.getByText("Rule added.").waitFor();
      await frame.getByText("Harbour Clinic – Dental chairs → Hillside Clinic – Rooms", { exact: true }).waitFor();
      await expect(frame.getByText("Choose a sub-account.").count()).resolves.toBe(0);
      const [rule] = await h.db.blockingRule.findMany();
      expect(rule).toMatchObject({ sourceLocationId: "loc-page", sourceCalendarId: "cal-chairs" });
      expect(rule!.targets).toEqual([{ locationId: "loc-other", calendarId: "cal-hill" }]);
      await screenshot(page, "agency-rule-by-names");
    } finally {
      await page.close();
    }
  }, 60_000);

  it("agency view of a large agency: sub-accounts found by name, in the list and in a closure", async () => {
    await installCompany(h, "agency-7");
    h.sandbox.state.customPage = { appUrl: app.url, ssoKey: SSO_KEY };
    // 45 more sub-accounts, as an agency install leaves them: more than the list and the closure's checklist offer at once.
    const outposts = Array.from({ length: 45 }, (_, i) => `outpost-${i}`);
    await h.db.location.createMany({
      data: outposts.map((id, i) => ({ id, companyId: "agency-7", name: `Outpost ${i}`, source: "agency" as const })),
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 1100 } });
    try {
      await page.goto(`${h.sandbox.url}/_sandbox/app`);
      const frame = page.frameLocator("#app");
      const list = frame.locator("#agency-locations");
      await list.getByText("The first 20 of 47 sub-accounts.").waitFor();
      await expect(list.locator("tbody tr").count()).resolves.toBe(20);
      await list.getByLabel("Find a sub-account").fill("hillside");
      await list.getByText("1 matching “hillside”.").waitFor();
      await expect(list.locator("tbody tr").allInnerTexts()).resolves.toEqual([
        expect.stringContaining("Hillside Clinic"),
      ]);

      // Closing some of them: the checklist offers 40, and the rest are found by name and stay ticked.
      await frame.getByLabel("Only these:").check();
      const where = frame.locator("#plan-where-step");
      await where.getByText("40 of 47 sub-accounts listed").waitFor();
      await where.getByLabel("Find a sub-account").fill("outpost 44");
      await where.getByLabel("Outpost 44").check();
      await where.getByLabel("Find a sub-account").fill("harbour");
      await where.getByLabel("Harbour Clinic").check();
      await where.getByText("1 matching “harbour”. 2 ticked, always listed.").waitFor();
      await expect(where.getByLabel("Outpost 44").isVisible()).resolves.toBe(true);
      await expect(where.getByLabel("Outpost 1", { exact: false }).first().isVisible()).resolves.toBe(false);
      await screenshot(page, "agency-large-find");
    } finally {
      await page.close();
      await h.db.location.deleteMany({ where: { id: { in: outposts } } });
    }
  }, 60_000);

  it("refuses a payload that does not decrypt, and says what to do", async () => {
    h.sandbox.state.customPage = { appUrl: app.url, ssoKey: "not-the-apps-secret" };
    const page = await browser.newPage();
    try {
      await page.goto(`${h.sandbox.url}/_sandbox/app?locationId=loc-page`);
      const frame = page.frameLocator("#app");
      await frame.getByText("could not be verified").waitFor();
      await expect(frame.getByRole("button", { name: "Block time" }).isVisible()).resolves.toBe(false);
      await screenshot(page, "custom-page-refused");
    } finally {
      await page.close();
    }
  }, 30_000);

  it("signs in only with what the framing window sends, never another frame's message", async () => {
    await installCompany(h, "agency-7");
    const page = await browser.newPage();
    try {
      await page.goto(`${host.origin}/host?app=${encodeURIComponent(app.url)}`, { waitUntil: "load" });
      const seen = await watch(page);
      // Another frame on the same screen hands the page a payload of its own.
      const other = page.frame({ url: `${host.origin}/other` })!;
      await other.evaluate(`window.parent.frames[0].postMessage(${answer(payloadFor("loc-other"))}, "*")`);
      await seen.received(1);
      expect(seen.signIns()).toBe(0);

      await page.evaluate(
        `document.getElementById("app").contentWindow.postMessage(${answer(payloadFor("loc-page"))}, "*")`,
      );
      const frame = page.frameLocator("#app");
      await frame.getByRole("heading", { name: "Harbour Clinic" }).waitFor();
      expect(seen.signIns()).toBe(1);
    } finally {
      await page.close();
    }
  }, 30_000);

  it("cannot be framed by an origin that is not allowed", async () => {
    const page = await browser.newPage();
    try {
      // localhost, not 127.0.0.1: the same server under another origin, one nobody allowed.
      const elsewhere = host.origin.replace("127.0.0.1", "localhost");
      await page.goto(`${elsewhere}/host?app=${encodeURIComponent(app.url)}`, { waitUntil: "load" });
      const framed = page.frames().find((f) => f.parentFrame() && f.name() === "" && !f.url().endsWith("/other"));
      await expect(framed?.locator("#status").count()).resolves.toBe(0);
      await page.goto(`${host.origin}/host?app=${encodeURIComponent(app.url)}`, { waitUntil: "load" });
      await expect(page.frameLocator("#app").locator("#status").count()).resolves.toBe(1);
    } finally {
      await page.close();
    }
  }, 30_000);

  it("the install flow, clicked through on the sandbox's consent page", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await page.goto(app.url);
      await screenshot(page, "landing-phone");
      await page.getByRole("link", { name: "Install in HighLevel" }).click();
      await page.getByRole("radio", { name: /Hillside Clinic/ }).check();
      await screenshot(page, "consent-page");
      await page.getByRole("button", { name: "Allow" }).click();
      await page.getByRole("heading", { name: "Sub-account installed" }).waitFor();
      // Named, not an id: the result page reads the sub-account's name from HighLevel.
      await page.getByText("Hillside Clinic is connected.").waitFor();
      await screenshot(page, "install-result-phone");
      expect(await h.db.location.findUnique({ where: { id: "loc-other" } })).toMatchObject({ status: "active" });
    } finally {
      await page.close();
    }
  }, 30_000);
});
