import type { Browser } from "playwright-core";
import { customPageStack, describeInBrowser, screenshot, type CustomPageStack } from "../support/browser";
import type { Harness } from "../support/harness";
import { CLINICS } from "../support/plans";

const SSO_KEY = "shared-secret-of-the-test-app";

describeInBrowser("closing sub-accounts and blocking hours from the custom page", () => {
  let h: Harness;
  let browser: Browser;
  let stack: CustomPageStack;
  beforeAll(async () => {
    stack = await customPageStack({ companies: [CLINICS], install: CLINICS.id, ssoKey: SSO_KEY, jobs: true });
    ({ h, browser } = stack);
  }, 60_000);
  afterAll(() => stack?.close());

  /** The page as HighLevel frames it, for a browser in a third time zone. */
  async function open(locationId?: string) {
    const page = await browser.newPage({
      viewport: { width: 1100, height: 1300 },
      timezoneId: "Asia/Tokyo",
      locale: "en-US",
    });
    await page.goto(`${h.sandbox.url}/_sandbox/app${locationId ? `?locationId=${locationId}` : ""}`);
    const frame = page.frameLocator("#app");
    await frame.getByRole("heading", { name: "Close locations / block hours" }).waitFor();
    return { page, frame };
  }

  /** The sandbox's blocks with this title, as UTC instants per location and calendar. */
  const held = (title: string) =>
    h.sandbox.state
      .blockSlots()
      .filter((s) => s.title === title)
      .map((s) => `${s.locationId} ${s.calendarId} ${new Date(s.startTime).toISOString()}`)
      .sort();

  it("agency: two sub-accounts in their own zones, previewed with a conflict, applied, then undone", async () => {
    // An appointment in New York at 12:30 local on the second day, inside the closure's hours.
    const appointment = h.sandbox.state.addAppointment({
      locationId: "clinic-ny",
      calendarId: "ny-chairs",
      startTime: "2031-03-04T12:30:00-05:00",
      endTime: "2031-03-04T13:15:00-05:00",
      title: "Crown fitting",
    });
    const { page, frame } = await open();
    try {
      await frame.getByLabel("Only these:").check();
      await frame.getByRole("checkbox", { name: /Harbour Clinic New York — New York time/ }).check();
      await frame.getByRole("checkbox", { name: /Harbour Clinic London — London time/ }).check();
      await frame.getByText("Times are each sub-account's own local time").waitFor();
      // Monday 3 March 2031, 12:00–13:00 local, every weekday, twice.
      await frame.getByLabel("From", { exact: true }).fill("2031-03-03T12:00");
      await frame.getByLabel("To", { exact: true }).fill("2031-03-03T11:00");
      await frame.getByLabel("Repeat", { exact: true }).selectOption({ label: "Every weekday (Monday to Friday)" });
      await frame.getByLabel("Keep repeating").selectOption({ label: "this many times" });
      await frame.getByLabel("Number of times").fill("2");
      await frame.getByRole("textbox", { name: "Block title (shown on every block)" }).fill("Staff training");

      await frame.getByRole("button", { name: "Preview" }).click();
      await frame.getByText("The end must be after the start.").waitFor();
      await screenshot(page, "plan-form-error");
      await frame.getByLabel("To", { exact: true }).fill("2031-03-03T13:00");
      await frame.getByRole("button", { name: "Preview" }).click();

      await frame.getByText("This makes 8 blocks in 2 sub-accounts. Nothing has changed yet.").waitFor();
      const preview = frame.locator("#plan-preview");
      await preview
        .getByRole("heading", { name: "Harbour Clinic New York — New York time (America/New_York)" })
        .waitFor();
      await expect(preview.getByText("Mon, Mar 3, 2031, 12:00 – 13:00").count()).resolves.toBe(2);
      const conflict = preview.locator("ul.conflicts li");
      await expect(conflict.allTextContents()).resolves.toEqual([
        "Harbour Clinic New York · Chairs: Appointment “Crown fitting”, Tue, Mar 4, 2031, 12:30 – 13:15 New York time",
      ]);
      expect(held("Staff training")).toEqual([]);
      await screenshot(page, "plan-preview");

      await frame.getByRole("button", { name: "Block this time (8 blocks)" }).click();
      await frame.getByText("Done: 8 blocks made.").waitFor({ timeout: 30_000 });
      await frame.locator("#plan-progress-blocks tbody tr").first().waitFor();
      expect(held("Staff training")).toEqual([
        "clinic-ldn ldn-chairs 2031-03-03T12:00:00.000Z",
        "clinic-ldn ldn-chairs 2031-03-04T12:00:00.000Z",
        "clinic-ldn ldn-xray 2031-03-03T12:00:00.000Z",
        "clinic-ldn ldn-xray 2031-03-04T12:00:00.000Z",
        "clinic-ny ny-chairs 2031-03-03T17:00:00.000Z",
        "clinic-ny ny-chairs 2031-03-04T17:00:00.000Z",
        "clinic-ny ny-xray 2031-03-03T17:00:00.000Z",
        "clinic-ny ny-xray 2031-03-04T17:00:00.000Z",
      ]);
      const row = frame.getByRole("row", { name: /Staff training/ });
      await row.getByText("8 of 8 made").waitFor();
      // Each plan in the list says who made it (a plan made with an API key says "made through the API").
      await row.getByText("by Sandbox Admin", { exact: true }).waitFor();
      await screenshot(page, "plan-applied");

      await row.getByRole("button", { name: "Undo Staff training" }).click();
      await frame.getByRole("heading", { name: "Undo “Staff training”?" }).waitFor();
      await screenshot(page, "plan-undo-confirm");
      // HighLevel refuses one delete: the plan says so, and "Try again" deletes what is left.
      h.sandbox.state.failNext(
        { method: "DELETE", path: "/calendars/events/" },
        { status: 422, body: { statusCode: 422, message: ["try later"] } },
      );
      await frame.getByRole("button", { name: "Undo and delete its blocks" }).click();
      await frame.getByText(/^Partly undone: 7 blocks deleted, 1 could not be/).waitFor({ timeout: 30_000 });
      await row.getByText("7 of 8 deleted, 1 could not be").waitFor();
      await frame.getByRole("heading", { name: "“Staff training”: Partly undone" }).waitFor();
      await frame.getByText("Failed: HighLevel did not accept it.", { exact: false }).waitFor();
      expect(held("Staff training")).toHaveLength(1);
      await screenshot(page, "plan-partly-undone");
      await row.getByRole("button", { name: "Delete the blocks of Staff training that are left" }).click();
      await frame.getByText("Undone: every block it made is deleted.").waitFor({ timeout: 30_000 });
      expect(held("Staff training")).toEqual([]);
      await row.getByText("8 of 8 deleted").waitFor();
      await expect(row.getByRole("button", { name: /Undo/ }).count()).resolves.toBe(0);
      // Every request the app sent HighLevel matched the OpenAPI files (the browser's own favicon aside).
      expect(h.sandbox.state.invalidRequests().filter((r) => r.path !== "/favicon.ico")).toEqual([]);
      await screenshot(page, "plan-undone");
    } finally {
      h.sandbox.state.deleteAppointment(appointment.id);
      await page.close();
    }
  }, 90_000);

  it("sub-account: only its own calendars, by name, in its own zone across a DST change", async () => {
    const { page, frame } = await open("clinic-ny");
    try {
      await expect(frame.getByText("1. Which sub-accounts").isVisible()).resolves.toBe(false);
      await frame
        .locator("#plan-zone-note")
        .getByText("Times are New York time (America/New_York), this sub-account's time zone")
        .waitFor();
      await frame.getByLabel("Only these calendars").check();
      await frame.getByRole("checkbox", { name: "X-ray" }).check();
      // Monday 10 March 2031: New York is on daylight time since the 9th.
      await frame.getByLabel("From", { exact: true }).fill("2031-03-10T08:00");
      await frame.getByLabel("To", { exact: true }).fill("2031-03-10T09:00");
      await frame.getByRole("textbox", { name: "Block title (shown on every block)" }).fill("Machine service");
      // Every day for thirty years is refused in words, before anything is made.
      await frame.getByLabel("Repeat", { exact: true }).selectOption({ label: "Every day" });
      await frame.getByLabel("Last date").fill("2060-12-31");
      await frame.getByRole("button", { name: "Preview" }).click();
      await frame
        .getByText(/That is too many blocks at once \(more than 10,000\): one plan can make at most/)
        .waitFor();
      await frame.getByLabel("Repeat", { exact: true }).selectOption({ label: "Does not repeat" });
      await frame.getByRole("button", { name: "Preview" }).click();
      await frame.getByText("This makes 1 block in 1 sub-account.").waitFor();
      await frame.getByText("Nothing is booked in these hours.").waitFor();
      await screenshot(page, "plan-subaccount-preview");
      await frame.getByRole("button", { name: "Block this time (1 block)" }).click();
      await frame.getByText("Done: 1 block made.").waitFor({ timeout: 30_000 });
      expect(held("Machine service")).toEqual(["clinic-ny ny-xray 2031-03-10T12:00:00.000Z"]);
      await screenshot(page, "plan-subaccount-applied");
    } finally {
      await page.close();
    }
  }, 60_000);

  it("agency: a preview of a whole agency shows ten sub-accounts and folds the others away", async () => {
    const { page } = await open();
    try {
      // The preview's answer for fifteen sub-accounts, as the API gives it (the page draws what it is given).
      const locations = Array.from({ length: 15 }, (_, i) => ({
        locationId: `loc-${i}`,
        locationName: `Clinic ${i}`,
        timeZone: "America/New_York",
        blocks: 2,
        occurrences: 1,
        calendars: 2,
        teamMembers: 0,
        first: [{ startTime: "2031-03-03T12:00:00-05:00", endTime: "2031-03-03T13:00:00-05:00" }],
      }));
      const app = page.frames().find((f) => f.parentFrame() !== null)!;
      // Runs in the page (the tests are compiled without the DOM's types).
      type InPage = {
        document: { getElementById(id: string): { hidden: boolean } };
        BlockSlots: { showPreview(p: unknown): void };
      };
      await app.evaluate((l) => {
        const win = globalThis as unknown as InPage;
        win.document.getElementById("plan-preview").hidden = false;
        win.BlockSlots.showPreview({ total: 30, locations: l, conflicts: [], moreConflicts: 0 });
      }, locations);
      const frame = page.frameLocator("#app");
      const preview = frame.locator("#plan-preview");
      await preview.getByText("This makes 30 blocks in 15 sub-accounts.").waitFor();
      await expect(preview.locator(".place:visible").count()).resolves.toBe(10);
      const more = preview.getByText("5 more sub-accounts (10 blocks)");
      await more.waitFor();
      await expect(preview.getByRole("heading", { name: /Clinic 14/ }).count()).resolves.toBe(0);
      await screenshot(page, "plan-preview-folded");
      await more.click();
      await preview.getByRole("heading", { name: /Clinic 14/ }).waitFor();
      await expect(preview.locator(".place:visible").count()).resolves.toBe(15);
    } finally {
      await page.close();
    }
  }, 60_000);
});
