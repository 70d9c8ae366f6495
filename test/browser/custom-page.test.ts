import type { Server } from "node:http";
import type { Browser } from "playwright-core";
import type { SandboxCompany } from "../../sandbox";
import { installCompany } from "../support/api";
import { closeServer, describeInBrowser, freePort, launchBrowser, listen, screenshot } from "../support/browser";
import { startHarness, type Harness } from "../support/harness";

const SSO_KEY = "shared-secret-of-the-test-app";
const CLINICS: SandboxCompany = {
  id: "agency-7",
  name: "Harbour Health",
  locations: [
    { id: "loc-page", name: "Harbour Clinic", calendars: [{ id: "cal-chairs", name: "Dental chairs" }] },
    { id: "loc-other", name: "Hillside Clinic", calendars: [{ id: "cal-hill", name: "Rooms" }] },
  ],
};

describeInBrowser("pages in a real browser", () => {
  let h: Harness;
  let app: { url: string; server: Server };
  let browser: Browser;
  beforeAll(async () => {
    const port = await freePort();
    h = await startHarness({
      sandbox: { companies: [CLINICS] },
      env: { HIGHLEVEL_SSO_KEY: SSO_KEY, APP_BASE_URL: `http://127.0.0.1:${port}` },
    });
    app = await listen(h.app, port);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await closeServer(app.server);
    await h.close();
  });

  const localInput = (date: Date) => {
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  };

  it("inside HighLevel: shows the sub-account, blocks time through the form and deletes it", async () => {
    await installCompany(h, "agency-7");
    // The sandbox plays HighLevel's screen: it frames /app and answers with the encrypted user.
    h.sandbox.state.customPage = { appUrl: app.url, ssoKey: SSO_KEY };
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    try {
      await page.goto(`${h.sandbox.url}/_sandbox/app?locationId=loc-page`);
      const frame = page.frameLocator("#app");
      await frame.getByRole("heading", { name: "Harbour Clinic" }).waitFor();
      await frame.getByText("Connected").waitFor();
      await frame.getByLabel("Calendar", { exact: true }).selectOption({ label: "Dental chairs" });
      await expect(frame.getByLabel("User id").isVisible()).resolves.toBe(false);
      await screenshot(page, "custom-page-signed-in");

      // The API's own validation message, next to the field.
      const start = new Date(Date.now() + 2 * 86_400_000);
      start.setHours(10, 0, 0, 0);
      const end = new Date(start.getTime() + 3600_000);
      await frame.getByLabel("Starts").fill(localInput(end));
      await frame.getByLabel("Ends").fill(localInput(start));
      await frame.getByRole("button", { name: "Block time" }).click();
      await frame.getByText("must be after startTime").waitFor();
      expect(h.sandbox.state.blockSlots("loc-page")).toEqual([]);
      await screenshot(page, "custom-page-validation");

      await frame.getByLabel("Starts").fill(localInput(start));
      await frame.getByLabel("Ends").fill(localInput(end));
      await frame.getByLabel(/^Title/).fill("Staff training");
      await frame.getByRole("button", { name: "Block time" }).click();
      await frame.getByText("Time blocked.").waitFor();
      await frame.getByRole("cell", { name: "Staff training", exact: true }).waitFor();
      const made = h.sandbox.state.blockSlots("loc-page");
      expect(made).toHaveLength(1);
      expect(made[0]).toMatchObject({ calendarId: "cal-chairs", title: "Staff training" });
      expect(Date.parse(made[0]!.startTime)).toBe(start.getTime());
      await screenshot(page, "custom-page-blocked");

      await frame.getByRole("button", { name: /Delete block Staff training/ }).click();
      await frame.getByText("Block deleted.").waitFor();
      await frame.getByText("Nothing blocked.").waitFor();
      expect(h.sandbox.state.blockSlots("loc-page")).toEqual([]);
      await screenshot(page, "custom-page-deleted");
    } finally {
      await page.close();
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
      await page.getByText("1 location connected").waitFor();
      await screenshot(page, "install-result-phone");
      expect(await h.db.location.findUnique({ where: { id: "loc-other" } })).toMatchObject({ status: "active" });
    } finally {
      await page.close();
    }
  }, 30_000);
});
