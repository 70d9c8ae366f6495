import { DateTime } from "luxon";
import type { Db } from "../db/client";
import type { CalendarNames } from "../locations/calendar-names";

/**
 * `25 Dec 2026, 00:00` in `zone`, or in the offset it was sent with when the zone is unknown; text
 * that is no time at all (a bulk item refused for it) as it was sent.
 */
export function localTime(iso: string, zone: string | null): string {
  const at = DateTime.fromISO(iso, { setZone: true });
  if (!at.isValid) return iso;
  return (zone ? at.setZone(zone) : at).toFormat("d LLL yyyy, HH:mm");
}

type Placeable = { locationId: string; calendarId?: string | null; startTime: string; endTime: string };

/**
 * Rows of blocks as the console shows them (a plan's blocks and conflicts, a bulk job's failed
 * items): their location's and calendar's names where the app knows them, and their times in the
 * location's own zone. Two queries for the whole page.
 */
export async function placed<T extends Placeable>(db: Db, names: CalendarNames, rows: T[]) {
  const [locations, calendars] = await Promise.all([
    db.location.findMany({
      where: { id: { in: [...new Set(rows.map((r) => r.locationId))] } },
      select: { id: true, name: true, timeZone: true },
    }),
    names.of(rows),
  ]);
  const where = new Map(locations.map((l) => [l.id, l]));
  return rows.map((r) => {
    const place = where.get(r.locationId);
    const zone = place?.timeZone ?? null;
    return {
      ...r,
      locationName: place?.name ?? null,
      calendarName: calendars(r.locationId, r.calendarId),
      zone,
      start: localTime(r.startTime, zone),
      end: localTime(r.endTime, zone),
    };
  });
}
