import { AppError } from "../src/errors";
import { expand } from "../src/block-plans/planner";
import { planBody } from "../src/block-plans/schemas";
import type { ResolvedTarget } from "../src/block-plans/targets";

/**
 * A plan's blocks from its schedule and resolved targets, without a database or HighLevel: the
 * limit on a plan's size, and each block placed in its own target's zone.
 */
const plan = (schedule: { start: string; end: string; rrule?: string }, title = "Lunch") =>
  planBody.parse({ title, targets: [{ locationId: "any", calendars: "all" }], schedule });
const calendar = (n: number, zone = "America/New_York"): ResolvedTarget => ({
  locationId: `loc-${n}`,
  calendarId: `cal-${n}`,
  zone,
});
const refusal = async (run: () => Promise<unknown>) => {
  try {
    await run();
  } catch (err) {
    return err instanceof AppError ? { code: err.code, detail: err.message } : err;
  }
  return "accepted";
};
const daily = (count: number) =>
  plan({ start: "2026-01-01T12:00", end: "2026-01-01T13:00", rrule: `FREQ=DAILY;COUNT=${count}` });

describe("a plan's size", () => {
  it("makes exactly 10,000 blocks, over one target or several", async () => {
    expect(await expand(daily(10_000), [calendar(1)])).toHaveLength(10_000);
    expect(
      await expand(
        daily(2_500),
        [1, 2, 3, 4].map((n) => calendar(n)),
      ),
    ).toHaveLength(10_000);
  });

  it("refuses one block more, naming the count", async () => {
    expect(await refusal(() => expand(daily(5_001), [calendar(1), calendar(2)]))).toEqual({
      code: "plan_too_large",
      detail: "The plan makes 10,002 blocks; a plan may make at most 10,000.",
    });
    expect(await refusal(() => expand(daily(10_000), [calendar(1), calendar(2)]))).toMatchObject({
      detail: "The plan makes 20,000 blocks; a plan may make at most 10,000.",
    });
  });

  it("refuses a schedule of more than 10,000 occurrences without counting them all", async () => {
    expect(await refusal(() => expand(daily(50_000), [calendar(1)]))).toEqual({
      code: "plan_too_large",
      detail: "The plan makes more than 10,000 blocks; a plan may make at most 10,000.",
    });
  });
});

describe("each block", () => {
  it("is placed in its own target's zone, on a calendar or a user, under the plan's title", async () => {
    const blocks = await expand(plan({ start: "2026-03-02T12:00", end: "2026-03-02T13:00" }, "Staff lunch"), [
      calendar(1, "America/New_York"),
      { locationId: "loc-2", assignedUserId: "user-2", zone: "Europe/London" },
      calendar(3, "Asia/Kolkata"),
    ]);
    expect(blocks).toEqual([
      {
        key: "loc-1|calendar:cal-1|2026-03-02",
        locationId: "loc-1",
        calendarId: "cal-1",
        occurrence: "2026-03-02T12:00",
        startTime: "2026-03-02T12:00:00-05:00",
        endTime: "2026-03-02T13:00:00-05:00",
        title: "Staff lunch",
      },
      {
        key: "loc-2|user:user-2|2026-03-02",
        locationId: "loc-2",
        assignedUserId: "user-2",
        occurrence: "2026-03-02T12:00",
        startTime: "2026-03-02T12:00:00+00:00",
        endTime: "2026-03-02T13:00:00+00:00",
        title: "Staff lunch",
      },
      {
        key: "loc-3|calendar:cal-3|2026-03-02",
        locationId: "loc-3",
        calendarId: "cal-3",
        occurrence: "2026-03-02T12:00",
        startTime: "2026-03-02T12:00:00+05:30",
        endTime: "2026-03-02T13:00:00+05:30",
        title: "Staff lunch",
      },
    ]);
  });

  it("moves forward by the gap where its whole time does not exist on the wall clock, and stays elsewhere", async () => {
    // 02:00–03:00 on 8 March 2026 is skipped in New York, and exists in London.
    const blocks = await expand(plan({ start: "2026-03-08T02:00", end: "2026-03-08T02:45" }), [
      calendar(1, "America/New_York"),
      calendar(2, "Europe/London"),
    ]);
    expect(blocks.map((b) => [b.locationId, b.startTime, b.endTime])).toEqual([
      ["loc-1", "2026-03-08T03:00:00-04:00", "2026-03-08T03:45:00-04:00"],
      ["loc-2", "2026-03-08T02:00:00+00:00", "2026-03-08T02:45:00+00:00"],
    ]);
  });
});
