import { DateTime } from "luxon";
import type { Browser, FrameLocator, Page } from "playwright-core";
import type { SandboxCompany } from "../../sandbox";
import { customPageStack, describeInBrowser, screenshot, type CustomPageStack } from "../support/browser";
import type { Harness } from "../support/harness";

const SSO_KEY = "shared-secret-of-the-test-app";
const CLINICS: SandboxCompany = {
  id: "agency-7",
  name: "Harbour Health",
  locations: [
    {
      id: "loc-ny",
      name: "Harbour Clinic New York",
      timezone: "America/New_York",
      users: [{ id: "usr-ada", name: "Ada Okonkwo" }],
      calendars: [{ id: "cal-chairs", name: "Dental chairs", teamMembers: ["usr-ada"] }],
    },
    {
      id: "loc-ldn",
      name: "Harbour Clinic London",
      timezone: "Europe/London",
      calendars: [{ id: "cal-rehab", name: "Rehab" }],
    },
  ],
};

describeInBrowser("the custom page's calendar in a real browser", () => {
  let h: Harness;
  let browser: Browser;
  let stack: CustomPageStack;
  beforeAll(async () => {
    stack = await customPageStack({ companies: [CLINICS], install: "agency-7", ssoKey: SSO_KEY });
    ({ h, browser } = stack);
  }, 60_000);
  afterAll(() => stack?.close());

  /** The frame of the page as HighLevel shows it, for a browser in a third time zone. */
  async function open(locationId?: string) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1300 }, timezoneId: "Asia/Tokyo" });
    await page.goto(`${h.sandbox.url}/_sandbox/app${locationId ? `?locationId=${locationId}` : ""}`);
    return { page, frame: page.frameLocator("#app") };
  }

  /** Next week's Monday as the calendar shows it (YYYY-MM-DD): never in the past. */
  async function nextMonday(frame: FrameLocator) {
    await frame.getByRole("button", { name: "Next Week" }).click();
    // Cell 0 is the column of hours, 1 is Sunday.
    return (await frame.getByRole("gridcell").nth(2).getAttribute("data-date"))!;
  }

  /** Drags down the day's column from the `from` slot to the `to` slot, as a person selects time. */
  async function drag(page: Page, frame: FrameLocator, date: string, from: string, to: string) {
    const column = (await frame.locator(`[role=gridcell][data-date="${date}"]`).boundingBox())!;
    const slot = async (time: string) => {
      const row = frame.locator(`[data-time="${time}:00"]`).last();
      await row.scrollIntoViewIfNeeded();
      const box = (await row.boundingBox())!;
      return box.y + box.height / 2;
    };
    const x = column.x + column.width / 2;
    await page.mouse.move(x, await slot(from));
    await page.mouse.down();
    await page.mouse.move(x, await slot(to), { steps: 5 });
    await page.mouse.up();
  }

  const instant = (date: string, time: string, zone: string) =>
    DateTime.fromISO(`${date}T${time}`, { zone }).toMillis();

  it("blocks a dragged range in the sub-account's time, explains mistakes, deletes and undoes", async () => {
    const { page, frame } = await open("loc-ny");
    try {
      await frame.getByText("New York time (America/New_York)", { exact: true }).waitFor();
      const date = await nextMonday(frame);
      await drag(page, frame, date, "10:00", "10:30");
      // The selection reads in New York's time, not the browser's (Tokyo).
      await expect(frame.getByLabel("Starts").inputValue()).resolves.toBe(`${date}T10:00`);
      await expect(frame.getByLabel("Ends").inputValue()).resolves.toBe(`${date}T11:00`);

      await frame.getByRole("button", { name: "Block this time" }).click();
      await frame.getByText("Choose a calendar or a team member.").waitFor();
      await frame.getByLabel("Whose time").selectOption({ label: "Dental chairs" });
      await frame.getByLabel("Ends").fill(`${date}T09:00`);
      await frame.getByRole("button", { name: "Block this time" }).click();
      await frame.getByText("The end must be after the start.").waitFor();
      // Each try starts clean: the earlier message is gone.
      await expect(frame.getByText("Choose a calendar or a team member.").count()).resolves.toBe(0);
      await screenshot(page, "calendar-form-mistake");
      expect(h.sandbox.state.blockSlots("loc-ny")).toEqual([]);

      await frame.getByLabel("Ends").fill(`${date}T11:00`);
      await frame.getByLabel(/^Title/).fill("Staff training");
      await frame.getByRole("button", { name: "Block this time" }).click();
      await frame.getByText("Staff training · Dental chairs", { exact: true }).waitFor();
      const [made] = h.sandbox.state.blockSlots("loc-ny");
      expect(made).toMatchObject({ calendarId: "cal-chairs", title: "Staff training" });
      expect(Date.parse(made!.startTime)).toBe(instant(date, "10:00", "America/New_York"));
      expect(Date.parse(made!.endTime)).toBe(instant(date, "11:00", "America/New_York"));
      await screenshot(page, "calendar-blocked");

      await frame.getByText("Staff training · Dental chairs", { exact: true }).click();
      await frame.getByRole("heading", { name: "Delete this block?" }).waitFor();
      // New York's 10 to 11, as the dialog says it (not Tokyo's midnight).
      await frame.getByText(/Staff training · Dental chairs, Mon, \w+ \d+, 10:00\s–\s11:00\sAM/).waitFor();
      await screenshot(page, "calendar-delete-confirm");
      await frame.getByRole("button", { name: "Delete block" }).click();
      await frame.getByText('Deleted "Staff training".').waitFor();
      expect(h.sandbox.state.blockSlots("loc-ny")).toEqual([]);
      await screenshot(page, "calendar-deleted-undo");

      await frame.getByRole("button", { name: "Undo" }).click();
      await frame.getByText('Restored "Staff training".').waitFor();
      await frame.getByText("Staff training · Dental chairs", { exact: true }).waitFor();
      const [again] = h.sandbox.state.blockSlots("loc-ny");
      expect(again).toMatchObject({ calendarId: "cal-chairs", title: "Staff training", startTime: made!.startTime });
      expect(again!.id).not.toBe(made!.id);
    } finally {
      await page.close();
    }
  }, 90_000);

  it("blocks a team member by name, deletes that block, and never offers to delete an appointment", async () => {
    const { page, frame } = await open("loc-ny");
    try {
      await frame.getByText("New York time (America/New_York)", { exact: true }).waitFor();
      const date = await nextMonday(frame);
      h.sandbox.state.addAppointment({
        locationId: "loc-ny",
        calendarId: "cal-chairs",
        title: "Check-up with Sam",
        contactId: "contact-sam",
        startTime: DateTime.fromMillis(instant(date, "14:00", "America/New_York")).toISO()!,
        endTime: DateTime.fromMillis(instant(date, "15:00", "America/New_York")).toISO()!,
      });
      await frame.getByRole("button", { name: "Block time…" }).click();
      await frame.getByLabel("Whose time").selectOption({ label: "Ada Okonkwo (you)" });
      await frame.getByLabel("Starts").fill(`${date}T08:00`);
      await frame.getByLabel("Ends").fill(`${date}T09:30`);
      await frame.getByLabel(/^Title/).fill("Ada at a course");
      await frame.getByRole("button", { name: "Block this time" }).click();
      await frame.getByText("Ada at a course · Ada Okonkwo (you)", { exact: true }).waitFor();
      await frame.getByText("Check-up with Sam · Dental chairs", { exact: true }).waitFor();
      const userBlock = h.sandbox.state.blockSlots("loc-ny").find((s) => s.title === "Ada at a course");
      expect(userBlock).toMatchObject({ assignedUserId: "usr-ada" });
      expect(Date.parse(userBlock!.startTime)).toBe(instant(date, "08:00", "America/New_York"));
      await screenshot(page, "calendar-user-block-and-appointment");

      await frame.getByText("Check-up with Sam · Dental chairs", { exact: true }).click();
      await frame.getByText(/is an appointment with a customer/).waitFor();
      await expect(frame.getByRole("heading", { name: "Delete this block?" }).isVisible()).resolves.toBe(false);

      await frame.getByText("Ada at a course · Ada Okonkwo (you)", { exact: true }).click();
      await frame.getByRole("button", { name: "Delete block" }).click();
      await frame.getByText('Deleted "Ada at a course".').waitFor();
      expect(h.sandbox.state.blockSlots("loc-ny").find((s) => s.title === "Ada at a course")).toBeUndefined();
      expect(h.sandbox.state.appointments.forLocation("loc-ny")).toHaveLength(1);
    } finally {
      await page.close();
    }
  }, 90_000);

  it("deletes several chosen blocks at once, and undoes that too", async () => {
    const { page, frame } = await open("loc-ny");
    try {
      await frame.getByText("New York time (America/New_York)", { exact: true }).waitFor();
      const date = await nextMonday(frame);
      const at = (time: string) => DateTime.fromMillis(instant(date, time, "America/New_York")).toISO()!;
      for (const [title, from, to] of [
        ["Inventory", "16:00", "17:00"],
        ["Cleaning", "17:00", "18:00"],
      ] as const) {
        const body = { calendarId: "cal-chairs", title, startTime: at(from), endTime: at(to) };
        await h.services.blockSlots.create("loc-ny", body, {
          origin: { origin: "page" },
          actor: { kind: "user", id: "test", name: "Test" },
        });
      }
      // Back and forth: the calendar reads the week again.
      await frame.getByRole("button", { name: "Previous Week" }).click();
      await frame.getByRole("button", { name: "Next Week" }).click();
      await frame.getByRole("button", { name: "Delete several…" }).click();
      await frame.getByText("Inventory · Dental chairs", { exact: true }).click();
      await frame.getByText("Cleaning · Dental chairs", { exact: true }).click();
      await frame.getByText("2 blocks chosen.").waitFor();
      await screenshot(page, "calendar-several-chosen");
      await frame.getByRole("button", { name: "Delete chosen" }).click();
      await frame.getByRole("heading", { name: "Delete 2 blocks?" }).waitFor();
      await frame.getByRole("button", { name: "Delete 2 blocks" }).click();
      await frame.getByText("Deleted 2 blocks.").waitFor();
      const titles = () => h.sandbox.state.blockSlots("loc-ny").map((b) => b.title);
      expect(titles()).not.toContain("Inventory");
      expect(titles()).not.toContain("Cleaning");

      await frame.getByRole("button", { name: "Undo" }).click();
      await frame.getByText("Restored 2 blocks.").waitFor();
      expect(titles()).toEqual(expect.arrayContaining(["Inventory", "Cleaning"]));
    } finally {
      await page.close();
    }
  }, 90_000);

  it("shows and blocks London time in the London sub-account", async () => {
    const { page, frame } = await open("loc-ldn");
    try {
      await frame.getByText("London time (Europe/London)", { exact: true }).waitFor();
      const date = await nextMonday(frame);
      await drag(page, frame, date, "09:00", "09:30");
      await frame.getByLabel("Whose time").selectOption({ label: "Rehab" });
      await frame.getByRole("button", { name: "Block this time" }).click();
      await frame.getByText("Blocked · Rehab").waitFor();
      const [made] = h.sandbox.state.blockSlots("loc-ldn");
      expect(Date.parse(made!.startTime)).toBe(instant(date, "09:00", "Europe/London"));
      await screenshot(page, "calendar-london");

      // A phone-width frame gets a list of the week instead of a grid, still in London's time.
      // Tall, so the whole frame is in the screenshot.
      await page.setViewportSize({ width: 390, height: 1600 });
      await page.reload();
      await frame.getByText("London time (Europe/London)", { exact: true }).waitFor();
      await frame.getByRole("button", { name: "Next Week" }).click();
      await frame.getByText("Blocked · Rehab", { exact: true }).waitFor();
      await frame.getByText(/^9:00\s?(am|AM)?\s?–\s?10:00\s?(am|AM)$/).waitFor();
      await screenshot(page, "calendar-list-phone");
    } finally {
      await page.close();
    }
  }, 90_000);
});
