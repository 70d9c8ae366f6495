import { DateTime, IANAZone } from "luxon";
import { RRule, type Options } from "rrule";
import { runRule } from "./rule-runner";

/**
 * A plan's schedule in wall-clock time, and how each occurrence is placed in a zone. RRULE
 * expansion is the `rrule` library's, zone arithmetic luxon's; the rules are in
 * docs/DECISIONS.md (#56, "Block plans: local time").
 */

/** `2026-12-25T00:00` (seconds allowed): a local time, no offset. */
export const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;
export const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** An occurrence is at most this long, wall clock. */
export const MAX_SPAN_DAYS = 31;

export interface Schedule {
  start: string;
  end: string;
  rrule?: string;
  exdates?: string[];
}

/** One occurrence in floating (zone-less) local time, as luxon objects in UTC standing for wall clocks. */
export interface Occurrence {
  /**
   * The occurrence's identity across changes of the plan: its local date, and its rank on that date
   * after the first (`2026-03-09`, `2026-03-09#2`). Moving the hours keeps it, so a block is edited
   * in place; moving the date makes another occurrence.
   */
  key: string;
  /** Its local start, `2026-03-09T12:00`. */
  local: string;
  start: DateTime;
  end: DateTime;
}

/** A wall-clock time as a zone-less DateTime (held in UTC, read as local everywhere). */
export const floating = (local: string): DateTime => DateTime.fromISO(local, { zone: "utc" });

export const isValidZone = (zone: string): boolean => IANAZone.isValidZone(zone);

const localOf = (d: DateTime) => d.toFormat("yyyy-MM-dd'T'HH:mm");

/** RRULE parts whose values are integers (RFC 5545 3.3.10), and one or more of them, comma separated. */
const NUMERIC_PARTS =
  /^(COUNT|INTERVAL|BYSETPOS|BYMONTH|BYMONTHDAY|BYYEARDAY|BYWEEKNO|BYHOUR|BYMINUTE|BYSECOND|BYEASTER)$/i;
const WHOLE_NUMBERS = /^[+-]?\d+(,[+-]?\d+)*$/;

/**
 * The RRULE's options with the plan's start as DTSTART, or a plain reason why it is unusable.
 * A date-only UNTIL means "to the end of that local day"; any UNTIL is local wall-clock time,
 * the same in every target's zone (its trailing Z, if any, is not honoured).
 */
export function parseRule(
  rule: string,
  start: DateTime,
): { options: Partial<Options>; text: string } | { problem: string } {
  const text = rule.trim().replace(/^RRULE:/i, "");
  if (!text) return { problem: "is empty" };
  const parts = text.split(";").filter(Boolean);
  for (const part of parts) {
    const [name = "", value = ""] = part.split("=");
    if (/^(DTSTART|TZID)$/i.test(name)) {
      return { problem: `${name} is not allowed: the start is schedule.start, the zone is the location's or timeZone` };
    }
    // The library reads COUNT=x or INTERVAL=1.5 without a word, and then runs a rule nobody wrote.
    if (NUMERIC_PARTS.test(name) && !WHOLE_NUMBERS.test(value)) {
      return { problem: `${part} cannot be read: ${name.toUpperCase()} takes whole numbers` };
    }
  }
  const options = readRule(text);
  if (typeof options === "string") {
    // The library stops at the first unreadable part; name that part in the answer.
    const bad = parts.find(
      (part) => !/^FREQ=/i.test(part) && typeof readRule(`FREQ=DAILY;COUNT=1;${part}`) === "string",
    );
    return { problem: bad ? `${bad} cannot be read: ${options}` : options };
  }
  // Before "must end": COUNT=0 is given, and wrong, not missing.
  if (options.count !== undefined && options.count !== null && options.count < 1) {
    return { problem: "COUNT must be at least 1" };
  }
  if (!options.count && !options.until) return { problem: "must end: give COUNT or UNTIL" };
  const until = /(?:^|;)UNTIL=(\d{8})(T\d{6}Z?)?(?:;|$)/i.exec(text);
  if (until) {
    const day = DateTime.fromFormat(until[1]!, "yyyyMMdd", { zone: "utc" });
    if (!day.isValid) return { problem: `UNTIL=${until[1]}${until[2] ?? ""} is not a real date` };
    const local = until[2]
      ? DateTime.fromFormat(`${until[1]}${until[2].replace(/Z$/i, "")}`, "yyyyMMdd'T'HHmmss", { zone: "utc" })
      : day.endOf("day");
    if (!local.isValid) return { problem: `UNTIL=${until[1]}${until[2]} is not a real date-time` };
    options.until = local.toJSDate();
  }
  return { options: { ...options, dtstart: start.toJSDate(), tzid: null }, text };
}

const FREQUENCIES = ["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"];

/** The library's options for an RRULE, or why it cannot be used, in words. */
function readRule(text: string): Partial<Options> | string {
  const freq = /(?:^|;)FREQ=([^;]*)/i.exec(text)?.[1];
  if (freq === undefined) return "FREQ is required (e.g. FREQ=WEEKLY)";
  if (!FREQUENCIES.includes(freq.toUpperCase())) return `FREQ=${freq} is not one of ${FREQUENCIES.join(", ")}`;
  try {
    const options = RRule.parseString(text);
    // Some bad values pass the parser and fail only when the rule is built. Those that fail only
    // when it runs are refused by the run (rule-runner.ts): running it here could take seconds.
    new RRule({ ...options, dtstart: new Date(0), count: 1, until: null });
    return options;
  } catch (err) {
    return err instanceof TypeError ? "a value is not one RFC 5545 allows" : (err as Error).message;
  }
}

/**
 * The schedule's occurrences in local time, at most `limit` (the caller asks for one more than it
 * accepts, to tell "too many" without expanding a rule of millions). Excluded local dates are left out.
 */
export async function occurrences(schedule: Schedule, limit: number): Promise<Occurrence[]> {
  const start = floating(schedule.start);
  const length = floating(schedule.end).diff(start);
  const excluded = new Set(schedule.exdates ?? []);
  const starts: DateTime[] = [];
  if (!schedule.rrule) starts.push(start);
  else {
    const parsed = parseRule(schedule.rrule, start);
    if ("problem" in parsed) throw new Error(`schedule.rrule ${parsed.problem}`);
    const found = await runRule({
      text: parsed.text,
      dtstart: start.toJSDate(),
      until: parsed.options.until ?? null,
      limit,
      excluded: [...excluded],
    });
    starts.push(...found.map((date) => DateTime.fromJSDate(date, { zone: "utc" })));
  }
  const perDay = new Map<string, number>();
  return starts
    .filter((s) => !excluded.has(s.toISODate()!))
    .slice(0, limit)
    .map((s) => {
      const day = s.toISODate()!;
      const rank = (perDay.get(day) ?? 0) + 1;
      perDay.set(day, rank);
      return { key: rank === 1 ? day : `${day}#${rank}`, local: localOf(s), start: s, end: s.plus(length) };
    });
}

/**
 * A wall-clock time in `zone`: a time that does not exist (the spring-forward gap) moves forward
 * by the gap; one that exists twice (fall back) takes the first of the two. luxon alone would take
 * the second, so the earliest of its possible offsets is chosen.
 */
export function inZone(local: DateTime, zone: string): DateTime {
  const placed = DateTime.fromObject(local.toObject(), { zone });
  const candidates = placed.getPossibleOffsets();
  return candidates.reduce((first, c) => (c.toMillis() < first.toMillis() ? c : first), placed);
}

/** ISO-8601 with the offset, as HighLevel gets it: `2026-12-25T00:00:00-05:00`. */
export const withOffset = (d: DateTime): string => d.toISO({ suppressMilliseconds: true, includeOffset: true })!;

/**
 * An occurrence placed in a zone, each end moved forward by a spring-forward gap it falls in (as
 * RFC 5545 reads such a time): 02:10–02:50 on the night New York skips 02:00–03:00 blocks 03:10–03:50.
 * Undefined only when the moved start is not before the end (02:30–03:00 that night): no time is left.
 */
export function place(occurrence: Occurrence, zone: string): { startTime: string; endTime: string } | undefined {
  const start = inZone(occurrence.start, zone);
  const end = inZone(occurrence.end, zone);
  if (end.toMillis() <= start.toMillis()) return undefined;
  return { startTime: withOffset(start), endTime: withOffset(end) };
}
