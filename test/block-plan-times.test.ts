import { apiAs, installCompany } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { CLINICS, PLANS } from "./support/plans";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [CLINICS] } });
  await installCompany(h, CLINICS.id);
});
afterAll(() => h.close());

/** The times a preview would send for one calendar of one location. */
async function times(locationId: string, schedule: Record<string, unknown>, timeZone?: string) {
  const calendarId = locationId === "clinic-ny" ? "ny-chairs" : "ldn-chairs";
  const res = await apiAs(h)
    .post(`${PLANS}/preview`)
    .send({
      title: "Closed",
      targets: [{ locationId, calendarIds: [calendarId] }],
      schedule,
      ...(timeZone ? { timeZone } : {}),
    })
    .expect(200);
  return (res.body.blocks as { startTime: string; endTime: string }[]).map((b) => [b.startTime, b.endTime]);
}

describe("occurrences keep their local hours in each location's own zone", () => {
  it("America/New_York: weekday lunch across the March change keeps 12:00–13:00", async () => {
    // Fri 6 March is EST (-05:00); the clocks go forward on Sun 8 March; Mon 9 is EDT (-04:00).
    const rrule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=3";
    expect(await times("clinic-ny", { start: "2026-03-06T12:00", end: "2026-03-06T13:00", rrule })).toEqual([
      ["2026-03-06T12:00:00-05:00", "2026-03-06T13:00:00-05:00"],
      ["2026-03-09T12:00:00-04:00", "2026-03-09T13:00:00-04:00"],
      ["2026-03-10T12:00:00-04:00", "2026-03-10T13:00:00-04:00"],
    ]);
    expect(h.sandbox.state.invalidRequests()).toEqual([]);
  });

  it("Europe/London: a daily closure across the change, and an all-day block of the 23-hour day", async () => {
    const rrule = "FREQ=DAILY;UNTIL=20260330";
    expect(await times("clinic-ldn", { start: "2026-03-28T09:00", end: "2026-03-28T17:00", rrule })).toEqual([
      ["2026-03-28T09:00:00+00:00", "2026-03-28T17:00:00+00:00"],
      ["2026-03-29T09:00:00+01:00", "2026-03-29T17:00:00+01:00"],
      ["2026-03-30T09:00:00+01:00", "2026-03-30T17:00:00+01:00"],
    ]);
    // Local midnight to local midnight: 23 hours of real time on the day the clocks go forward.
    expect(await times("clinic-ldn", { start: "2026-03-29T00:00", end: "2026-03-30T00:00" })).toEqual([
      ["2026-03-29T00:00:00+00:00", "2026-03-30T00:00:00+01:00"],
    ]);
  });

  it("a local time in the spring-forward gap moves forward by the gap, a block wholly inside it too", async () => {
    // 02:00–03:00 does not exist in New York on 8 March 2026.
    expect(await times("clinic-ny", { start: "2026-03-08T02:30", end: "2026-03-08T04:00" })).toEqual([
      ["2026-03-08T03:30:00-04:00", "2026-03-08T04:00:00-04:00"],
    ]);
    // Local hours that do not exist that day at all move forward by the hour the clocks skip.
    expect(await times("clinic-ldn", { start: "2026-03-29T01:15", end: "2026-03-29T01:45" })).toEqual([
      ["2026-03-29T02:15:00+01:00", "2026-03-29T02:45:00+01:00"],
    ]);
    // 02:30 moves to 03:30, after its end at 03:00: no time is left to block.
    expect(await times("clinic-ny", { start: "2026-03-08T02:30", end: "2026-03-08T03:00" })).toEqual([]);
  });

  it("a local time that occurs twice (fall back) takes the first", async () => {
    // 01:00–02:00 happens twice in New York on 1 November 2026: first EDT (-04:00), then EST (-05:00).
    expect(await times("clinic-ny", { start: "2026-11-01T01:30", end: "2026-11-01T03:00" })).toEqual([
      ["2026-11-01T01:30:00-04:00", "2026-11-01T03:00:00-05:00"],
    ]);
    // London, 25 October 2026: 01:00–02:00 twice, BST (+01:00) first.
    expect(await times("clinic-ldn", { start: "2026-10-25T01:30", end: "2026-10-25T02:30" })).toEqual([
      ["2026-10-25T01:30:00+01:00", "2026-10-25T02:30:00+00:00"],
    ]);
  });

  it("one IANA zone for all targets overrides each location's own", async () => {
    expect(await times("clinic-ny", { start: "2026-07-01T09:00", end: "2026-07-01T10:00" }, "Europe/London")).toEqual([
      ["2026-07-01T09:00:00+01:00", "2026-07-01T10:00:00+01:00"],
    ]);
  });

  it("leaves out excluded local dates", async () => {
    const schedule = {
      start: "2026-12-24T00:00",
      end: "2026-12-25T00:00",
      rrule: "FREQ=DAILY;COUNT=9",
      exdates: ["2026-12-26", "2026-12-27", "2026-12-28", "2026-12-29", "2026-12-30"],
    };
    const days = (await times("clinic-ny", schedule)).map(([start]) => start!.slice(0, 10));
    expect(days).toEqual(["2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"]);
  });
});

describe("a schedule that cannot be used is refused with the field named", () => {
  const refused = async (schedule: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const before = h.sandbox.state.requests.length;
    const res = await apiAs(h)
      .post(`${PLANS}/preview`)
      .send({ title: "x", targets: [{ locationId: "clinic-ny", calendars: "all" }], schedule, ...extra })
      .expect(400);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(h.sandbox.state.requests.length).toBe(before);
    return res.body.errors as { path: string; message: string }[];
  };

  it("an RRULE the library cannot read, or one without an end, with the reason in words", async () => {
    const base = { start: "2026-03-06T12:00", end: "2026-03-06T13:00" };
    expect(await refused({ ...base, rrule: "FREQ=WEEKLY;BYDAY=XX;COUNT=3" })).toEqual([
      { path: "schedule.rrule", message: expect.stringContaining("BYDAY=XX") },
    ]);
    expect(await refused({ ...base, rrule: "FREQ=FORTNIGHTLY;COUNT=3" })).toEqual([
      { path: "schedule.rrule", message: expect.stringContaining("FREQ=FORTNIGHTLY is not one of") },
    ]);
    expect(await refused({ ...base, rrule: "FREQ=WEEKLY" })).toEqual([
      { path: "schedule.rrule", message: expect.stringContaining("COUNT or UNTIL") },
    ]);
  });

  it("times with an offset, an end before the start or over 31 days later, an unknown zone", async () => {
    expect(await refused({ start: "2026-03-06T12:00+01:00", end: "2026-03-06T13:00" })).toEqual([
      { path: "schedule.start", message: expect.stringContaining("without offset") },
    ]);
    expect(await refused({ start: "2026-03-06T12:00", end: "2026-03-06T11:00" })).toEqual([
      { path: "schedule.end", message: "must be after start" },
    ]);
    expect(await refused({ start: "2026-03-01T00:00", end: "2026-04-02T00:00" })).toEqual([
      { path: "schedule.end", message: "must be at most 31 days after start" },
    ]);
    const zone = await refused({ start: "2026-03-06T12:00", end: "2026-03-06T13:00" }, { timeZone: "Mars/Olympus" });
    expect(zone).toEqual([{ path: "timeZone", message: expect.stringContaining("IANA") }]);
  });
});

describe("a location whose time zone HighLevel gives oddly", () => {
  afterAll(async () => {
    h.sandbox.state.updateLocation("clinic-ny", { timezone: "America/New_York" });
    await h.db.location.update({ where: { id: "clinic-ny" }, data: { timeZone: "America/New_York" } });
  });
  const reread = async (timezone: string) => {
    // Written into the sandbox's record directly: its control API takes IANA zones only.
    h.sandbox.state.world.findLocation("clinic-ny")!.location.timezone = timezone;
    await h.db.location.update({ where: { id: "clinic-ny" }, data: { timeZone: null } });
  };

  it("takes a zone written with spaces around it", async () => {
    await reread(" America/Chicago ");
    expect(await times("clinic-ny", { start: "2026-07-01T09:00", end: "2026-07-01T10:00" })).toEqual([
      ["2026-07-01T09:00:00-05:00", "2026-07-01T10:00:00-05:00"],
    ]);
  });

  it("names the location when its zone is none the app can read, instead of leaving its blocks out", async () => {
    await reread("Mars/Olympus_Mons");
    const res = await apiAs(h)
      .post(`${PLANS}/preview`)
      .send({
        title: "Closed",
        targets: [{ locationId: "clinic-ny", calendarIds: ["ny-chairs"] }],
        schedule: { start: "2026-07-01T09:00", end: "2026-07-01T10:00" },
      })
      .expect(400);
    expect(res.body.errors).toEqual([{ path: "targets.0", message: expect.stringContaining("clinic-ny") }]);
  });
});
