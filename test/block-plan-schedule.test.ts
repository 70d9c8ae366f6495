import { Settings } from "luxon";
import { LOCAL_DATE, LOCAL_DATE_TIME, floating, occurrences, parseRule, place } from "../src/block-plans/schedule";

/**
 * The schedule module on its own: how a plan's wall-clock schedule becomes occurrences, and which
 * rules it refuses, in words an API caller reads. No database, no HighLevel: pure time arithmetic.
 */
const locals = async (schedule: Parameters<typeof occurrences>[0], limit = 100) =>
  (await occurrences(schedule, limit)).map((o) => [o.key, o.local, o.end.toFormat("yyyy-MM-dd'T'HH:mm")]);
const problem = (rule: string) => {
  const parsed = parseRule(rule, floating("2026-03-02T09:00"));
  return "problem" in parsed ? parsed.problem : undefined;
};

describe("local date-times", () => {
  it("takes a wall-clock time with or without seconds, and nothing around it", () => {
    expect(LOCAL_DATE_TIME.test("2026-12-25T00:00")).toBe(true);
    expect(LOCAL_DATE_TIME.test("2026-12-25T00:00:30")).toBe(true);
    for (const bad of ["x2026-12-25T00:00", "2026-12-25T00:00Z", "2026-12-25T00:00:3", "2026-12-25T00:00:ab"]) {
      expect([bad, LOCAL_DATE_TIME.test(bad)]).toEqual([bad, false]);
    }
    expect(LOCAL_DATE.test("2026-12-31")).toBe(true);
    expect(LOCAL_DATE.test("2026-12-31T00:00")).toBe(false);
    expect(LOCAL_DATE.test("on 2026-12-31")).toBe(false);
  });
});

describe("occurrences", () => {
  it("a single block without a rule, as long as asked", async () => {
    expect(await locals({ start: "2026-12-25T00:00", end: "2026-12-26T00:00" })).toEqual([
      ["2026-12-25", "2026-12-25T00:00", "2026-12-26T00:00"],
    ]);
  });

  it("leaves out a single block whose date is excluded", async () => {
    expect(await locals({ start: "2026-12-25T00:00", end: "2026-12-26T00:00", exdates: ["2026-12-25"] })).toEqual([]);
  });

  it("skips excluded dates, and an excluded date does not use up the limit", async () => {
    const schedule = {
      start: "2026-03-02T12:00",
      end: "2026-03-02T13:00",
      rrule: "RRULE:FREQ=DAILY;COUNT=5",
      exdates: ["2026-03-03", "2026-03-05"],
    };
    expect((await locals(schedule)).map(([key]) => key)).toEqual(["2026-03-02", "2026-03-04", "2026-03-06"]);
    expect((await locals(schedule, 2)).map(([key]) => key)).toEqual(["2026-03-02", "2026-03-04"]);
  });

  it("stops at the limit, so a rule of millions is never expanded", async () => {
    const many = { start: "2026-01-01T09:00", end: "2026-01-01T10:00", rrule: "FREQ=MINUTELY;COUNT=5000000" };
    expect(await occurrences(many, 3)).toHaveLength(3);
  });

  it("names a second occurrence on the same local day by its rank", async () => {
    const twice = { start: "2026-03-02T09:00", end: "2026-03-02T10:00", rrule: "FREQ=HOURLY;INTERVAL=4;COUNT=3" };
    expect(await locals(twice)).toEqual([
      ["2026-03-02", "2026-03-02T09:00", "2026-03-02T10:00"],
      ["2026-03-02#2", "2026-03-02T13:00", "2026-03-02T14:00"],
      ["2026-03-02#3", "2026-03-02T17:00", "2026-03-02T18:00"],
    ]);
  });

  it("a date-only UNTIL includes that whole local day; a timed one is local wall-clock time, Z or not", async () => {
    const daily = async (until: string) =>
      (await locals({ start: "2026-03-02T12:00", end: "2026-03-02T13:00", rrule: `FREQ=DAILY;UNTIL=${until}` })).map(
        ([key]) => key,
      );
    expect(await daily("20260304")).toEqual(["2026-03-02", "2026-03-03", "2026-03-04"]);
    expect(await daily("20260304T120000Z")).toEqual(["2026-03-02", "2026-03-03", "2026-03-04"]);
    expect(await daily("20260304T115900")).toEqual(["2026-03-02", "2026-03-03"]);
  });

  it("reads UNTIL as local wall-clock time wherever it stands in the rule", async () => {
    const first = { start: "2026-03-02T12:00", end: "2026-03-02T13:00", rrule: "UNTIL=20260304;FREQ=DAILY" };
    expect((await locals(first)).map(([key]) => key)).toEqual(["2026-03-02", "2026-03-03", "2026-03-04"]);
  });

  it("does not depend on the server's own time zone", async () => {
    const server = Settings.defaultZone;
    Settings.defaultZone = "Pacific/Kiritimati"; // UTC+14: any reading in it moves the dates
    try {
      const schedule = {
        start: "2026-03-02T23:30",
        end: "2026-03-03T00:30",
        rrule: "FREQ=DAILY;UNTIL=20260303T233000Z",
      };
      expect(await locals(schedule)).toEqual([
        ["2026-03-02", "2026-03-02T23:30", "2026-03-03T00:30"],
        ["2026-03-03", "2026-03-03T23:30", "2026-03-04T00:30"],
      ]);
      const [first] = await occurrences({ ...schedule, rrule: "FREQ=DAILY;UNTIL=20260302" }, 10);
      expect(place(first!, "Europe/London")).toEqual({
        startTime: "2026-03-02T23:30:00+00:00",
        endTime: "2026-03-03T00:30:00+00:00",
      });
    } finally {
      Settings.defaultZone = server;
    }
  });

  it("refuses a rule that never matches by name, and the server's own thread keeps running meanwhile", async () => {
    // No February has a 30th: the library would walk day by day to the year 9999 looking for one.
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 20);
    try {
      const never = {
        start: "2026-02-01T09:00",
        end: "2026-02-01T17:00",
        rrule: "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;UNTIL=20270301",
      };
      await expect(occurrences(never, 5)).rejects.toMatchObject({
        code: "invalid_request",
        errors: [{ path: "schedule.rrule", message: expect.stringMatching(/^RRULE takes too long to expand/) }],
      });
    } finally {
      clearInterval(ticker);
    }
    expect(ticks).toBeGreaterThan(10);
  });

  it("refuses to expand a rule it cannot read", async () => {
    await expect(
      occurrences({ start: "2026-03-02T09:00", end: "2026-03-02T10:00", rrule: "FREQ=DAILY" }, 5),
    ).rejects.toThrow("schedule.rrule must end: give COUNT or UNTIL");
  });
});

describe("rules refused, with the reason", () => {
  it.each([
    ["", "is empty"],
    ["RRULE:", "is empty"],
    ["FREQ=DAILY", "must end: give COUNT or UNTIL"],
    ["FREQ=DAILY;COUNT=0", "COUNT must be at least 1"],
    ["COUNT=3", "FREQ is required (e.g. FREQ=WEEKLY)"],
    [
      "FREQ=FORTNIGHTLY;COUNT=3",
      "FREQ=FORTNIGHTLY is not one of YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY, MINUTELY, SECONDLY",
    ],
    ["FREQ=DAILY;UNTIL=20261340", "UNTIL=20261340 is not a real date"],
    ["FREQ=DAILY;COUNT=x", "COUNT=x cannot be read: COUNT takes whole numbers"],
    ["FREQ=WEEKLY;COUNT=4;interval=1.5", "interval=1.5 cannot be read: INTERVAL takes whole numbers"],
    ["FREQ=MONTHLY;COUNT=4;BYMONTHDAY=1,,15", "BYMONTHDAY=1,,15 cannot be read: BYMONTHDAY takes whole numbers"],
    ["FREQ=MONTHLY;COUNT=4;BYSETPOS=", "BYSETPOS= cannot be read: BYSETPOS takes whole numbers"],
    ["FREQ=DAILY;UNTIL=20261201T250000", "UNTIL=20261201T250000 is not a real date-time"],
  ])("%j: %s", (rule, reason) => {
    expect(problem(rule)).toBe(reason);
  });

  it("refuses DTSTART and TZID: the start and the zone come from the plan", () => {
    expect(problem("DTSTART=20260101T000000;FREQ=DAILY;COUNT=2")).toMatch(
      /^DTSTART is not allowed: the start is schedule\.start/,
    );
    expect(problem("FREQ=DAILY;COUNT=2;tzid=Europe/Paris")).toMatch(/^tzid is not allowed/);
    // A part that only contains the word is something else, and is read (or refused) as such.
    expect(problem("FREQ=DAILY;COUNT=2;X-DTSTART-NOTE=1")).not.toMatch(/is not allowed/);
  });

  it("names the part it cannot read", () => {
    expect(problem("FREQ=WEEKLY;COUNT=2;BYDAY=XX")).toBe("BYDAY=XX cannot be read: a value is not one RFC 5545 allows");
    expect(problem("FREQ=DAILY;COUNT=2;XFREQ=1")).toMatch(/^XFREQ=1 cannot be read: /);
    expect(problem("FREQ=DAILY;COUNT=2;BYHOUR=a")).toBe("BYHOUR=a cannot be read: BYHOUR takes whole numbers");
    // Only the exact names are refused as the plan's own: these are unknown parts.
    expect(problem("FREQ=DAILY;COUNT=2;X-TZID=1")).toMatch(/^X-TZID=1 cannot be read: /);
    expect(problem("FREQ=DAILY;COUNT=2;DTSTARTX=1")).toMatch(/^DTSTARTX=1 cannot be read: /);
  });

  it("accepts a rule of one occurrence", () => {
    expect(problem("FREQ=DAILY;COUNT=1")).toBeUndefined();
    expect(problem("FREQ=MONTHLY;COUNT=3;BYMONTHDAY=1,-1;BYSETPOS=+1;INTERVAL=2")).toBeUndefined();
    expect(problem("FREQ=MONTHLY;COUNT=3;BYMONTHDAY=1,15,28")).toBeUndefined();
    expect(problem("  FREQ=DAILY;COUNT=2  ")).toBeUndefined();
  });

  it("accepts a rule written with its RRULE: prefix, in any case", () => {
    expect(problem("rrule:FREQ=WEEKLY;BYDAY=MO;COUNT=2")).toBeUndefined();
  });
});

describe("placing an occurrence in a zone", () => {
  const at = (start: string, end: string) => ({
    key: start.slice(0, 10),
    local: start,
    start: floating(start),
    end: floating(end),
  });

  it("an occurrence wholly inside the spring-forward gap moves forward by the gap, both ends", () => {
    expect(place(at("2026-03-08T02:10", "2026-03-08T02:50"), "America/New_York")).toEqual({
      startTime: "2026-03-08T03:10:00-04:00",
      endTime: "2026-03-08T03:50:00-04:00",
    });
    // Lord Howe Island moves its clocks by half an hour: 02:00 becomes 02:30.
    expect(place(at("2026-10-04T02:05", "2026-10-04T02:20"), "Australia/Lord_Howe")).toEqual({
      startTime: "2026-10-04T02:35:00+11:00",
      endTime: "2026-10-04T02:50:00+11:00",
    });
  });

  it("one that starts in the gap starts when the clocks do", () => {
    expect(place(at("2026-03-08T02:30", "2026-03-08T04:00"), "America/New_York")).toEqual({
      startTime: "2026-03-08T03:30:00-04:00",
      endTime: "2026-03-08T04:00:00-04:00",
    });
  });

  it("one that starts in the gap and would then end before it starts, or as it starts, does not exist", () => {
    expect(place(at("2026-03-08T02:30", "2026-03-08T03:00"), "America/New_York")).toBeUndefined();
    expect(place(at("2026-03-08T02:30", "2026-03-08T03:30"), "America/New_York")).toBeUndefined();
  });

  it("an ambiguous time takes the first of the two", () => {
    expect(place(at("2026-11-01T01:30", "2026-11-01T01:45"), "America/New_York")).toEqual({
      startTime: "2026-11-01T01:30:00-04:00",
      endTime: "2026-11-01T01:45:00-04:00",
    });
  });
});
