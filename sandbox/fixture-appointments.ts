import { DateTime } from "luxon";
import type { AppointmentBook } from "./appointments";
import type { NewAppointment } from "./types";
import type { World } from "./world";

const CUSTOMERS = [
  "Maria Garcia",
  "James Smith",
  "Aisha Khan",
  "Liam O'Brien",
  "Chen Wei",
  "Sofia Rossi",
  "Noah Johnson",
  "Emma Müller",
];
/** Slots of a business day, local time: [hour, minute, minutes long]. All end by 17:00. */
const SLOTS: [number, number, number][] = [
  [9, 0, 60],
  [10, 30, 45],
  [11, 30, 30],
  [13, 0, 60],
  [14, 30, 45],
  [15, 30, 60],
];
const PER_CALENDAR = 4;
const HORIZON_DAYS = 14;

/**
 * A few upcoming appointments for every calendar that has none ahead, on weekdays of the next
 * two weeks in the location's own business hours (9:00–17:00 in its zone), computed from `now`
 * so the demo's calendars are never empty. Placement is fixed by the calendar's position, so
 * calendars of one location do not all book the same hours.
 */
export function upcomingAppointments(world: World, book: AppointmentBook, now = DateTime.now()): NewAppointment[] {
  const ahead = new Set(
    [...book.byId.values()].filter((a) => Date.parse(a.endTime) > now.toMillis()).map((a) => a.calendarId),
  );
  const made: NewAppointment[] = [];
  // Per zone, not per location: luxon's zone arithmetic is slow enough to notice at 2,000 locations.
  const daysByZone = new Map<string, DateTime[]>();
  let n = 0;
  for (const company of world.companies) {
    for (const location of company.locations) {
      const zone = world.timezoneOf(location);
      let days = daysByZone.get(zone);
      if (!days) daysByZone.set(zone, (days = weekdays(now.setZone(zone))));
      for (const calendar of location.calendars ?? []) {
        n += 1;
        if (ahead.has(calendar.id)) continue;
        for (let i = 0; i < PER_CALENDAR; i += 1) {
          const customer = CUSTOMERS[(i + n) % CUSTOMERS.length]!;
          const assignedUserId = calendar.teamMembers?.[i % calendar.teamMembers.length];
          made.push({
            locationId: location.id,
            calendarId: calendar.id,
            title: `${calendar.name} – ${customer}`,
            ...times(days, (i * 3 + n) % days.length, (i * 2 + n) % SLOTS.length),
            ...(assignedUserId ? { assignedUserId } : {}),
          });
        }
      }
    }
  }
  return made;
}

const timesCache = new WeakMap<DateTime[], Map<number, { startTime: string; endTime: string }>>();

/** A slot of a day, as ISO-8601 in the day's zone; the same few hundred recur across thousands of calendars. */
function times(days: DateTime[], dayIndex: number, slotIndex: number): { startTime: string; endTime: string } {
  let cached = timesCache.get(days);
  if (!cached) timesCache.set(days, (cached = new Map()));
  const key = dayIndex * SLOTS.length + slotIndex;
  let found = cached.get(key);
  if (!found) {
    const [hour, minute, minutes] = SLOTS[slotIndex]!;
    const start = days[dayIndex]!.set({ hour, minute });
    found = {
      startTime: start.toISO({ suppressMilliseconds: true })!,
      endTime: start.plus({ minutes }).toISO({ suppressMilliseconds: true })!,
    };
    cached.set(key, found);
  }
  return found;
}

/** Monday–Friday of the horizon, from tomorrow (today's hours may be over), local midnight. */
function weekdays(localNow: DateTime): DateTime[] {
  const days: DateTime[] = [];
  for (let d = 1; d <= HORIZON_DAYS; d += 1) {
    const day = localNow.startOf("day").plus({ days: d });
    if (day.weekday <= 5) days.push(day);
  }
  return days;
}
