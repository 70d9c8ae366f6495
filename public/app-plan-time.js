// Closures and blocked hours: the repeat in plain words ⇄ an RRULE, and times shown in a named
// zone (never the browser's). Used by app-plan-form.js and app-plans.js.
"use strict";

(function () {
  const DAYS = [
    ["MO", "Monday"],
    ["TU", "Tuesday"],
    ["WE", "Wednesday"],
    ["TH", "Thursday"],
    ["FR", "Friday"],
    ["SA", "Saturday"],
    ["SU", "Sunday"],
  ];
  const WEEKDAYS = "MO,TU,WE,TH,FR";

  /**
   * The repeat chosen on the page as an RRULE, or undefined when it does not repeat. `until` is a
   * local date (the rule's UNTIL is each sub-account's wall clock, to the end of that day).
   */
  function rrule(choice) {
    if (choice.repeat === "none") return undefined;
    const parts = [];
    if (choice.repeat === "daily") parts.push("FREQ=DAILY");
    else parts.push("FREQ=WEEKLY", `BYDAY=${choice.repeat === "weekdays" ? WEEKDAYS : choice.days.join(",")}`);
    parts.push(choice.how === "count" ? `COUNT=${choice.count}` : `UNTIL=${choice.until.replaceAll("-", "")}`);
    return parts.join(";");
  }

  const dayName = (code) => (DAYS.find(([c]) => c === code) || [code, code])[1];
  const list = (words) =>
    words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;

  /** A floating local date or date-time ("2026-03-02", "2026-03-02T12:00") as words, with no zone. */
  function localWords(value, withTime) {
    const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : `${value.slice(0, 16)}:00Z`);
    return new Intl.DateTimeFormat(undefined, {
      timeZone: "UTC",
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      ...(withTime ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" } : {}),
    }).format(ms);
  }

  /** How a stored rule repeats, in words; rules made elsewhere (the API) are named as such. */
  function repeatWords(rule) {
    if (!rule) return "";
    const fields = Object.fromEntries(rule.split(";").map((p) => p.split("=")));
    const ending = fields.COUNT
      ? `, ${fields.COUNT} time${fields.COUNT === "1" ? "" : "s"}`
      : fields.UNTIL
        ? ` until ${localWords(`${fields.UNTIL.slice(0, 4)}-${fields.UNTIL.slice(4, 6)}-${fields.UNTIL.slice(6, 8)}`)}`
        : "";
    const known = Object.keys(fields).every((k) => ["FREQ", "BYDAY", "COUNT", "UNTIL"].includes(k));
    if (known && fields.FREQ === "DAILY" && !fields.BYDAY) return `every day${ending}`;
    if (known && fields.FREQ === "WEEKLY" && fields.BYDAY === WEEKDAYS) return `every weekday${ending}`;
    if (known && fields.FREQ === "WEEKLY" && fields.BYDAY) {
      return `every week on ${list(fields.BYDAY.split(",").map(dayName))}${ending}`;
    }
    return `repeats (${rule})`;
  }

  /** A plan's schedule in words: its first hours, local to each sub-account, and how it repeats. */
  function scheduleWords(schedule) {
    const sameDay = schedule.start.slice(0, 10) === schedule.end.slice(0, 10);
    const hours = `${localWords(schedule.start, true)} – ${sameDay ? schedule.end.slice(11, 16) : localWords(schedule.end, true)}`;
    const skipped = (schedule.exdates || []).length;
    return [hours, repeatWords(schedule.rrule), skipped ? `skipping ${skipped} date${skipped > 1 ? "s" : ""}` : ""]
      .filter(Boolean)
      .join(", ");
  }

  /** "New York time", and with the zone's full name where it is first named on screen. */
  const zoneShort = (zone) => (zone ? `${zone.split("/").pop().replaceAll("_", " ")} time` : "");
  const zoneLabel = (zone) => (zone ? `${zoneShort(zone)} (${zone})` : "");

  /** An instant range as the wall clock of `zone`: "Tue, Mar 3, 2026, 12:30 – 13:00". */
  function spanIn(startTime, endTime, zone) {
    const format = (options) =>
      new Intl.DateTimeFormat(undefined, { timeZone: zone || "UTC", hourCycle: "h23", ...options });
    const full = format({
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
    const day = format({ year: "numeric", month: "2-digit", day: "2-digit" });
    const start = Date.parse(startTime);
    const end = Date.parse(endTime);
    const sameDay = day.format(start) === day.format(end);
    return `${full.format(start)} – ${sameDay ? format({ hour: "2-digit", minute: "2-digit" }).format(end) : full.format(end)}`;
  }

  window.BlockSlots.planTime = {
    DAYS,
    rrule,
    repeatWords,
    scheduleWords,
    zoneShort,
    zoneLabel,
    spanIn,
    localWords,
  };
})();
