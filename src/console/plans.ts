import { DateTime } from "luxon";
import type { Principal } from "../auth/api-keys";
import type { BlockPlanService } from "../block-plans/service";
import type { CalendarNames } from "../locations/calendar-names";
import type { Db } from "../db/client";

export const BLOCKS_SHOWN = 500;

/** Where and how a location is shown: its name when known, and its own zone. */
interface Place {
  name: string | null;
  zone: string | null;
}

/**
 * `25 Dec 2026, 00:00` in `zone`, or in the offset it was sent with when the zone is unknown; text
 * that is no time at all (a bulk item refused for it) as it was sent.
 */
export function localTime(iso: string, zone: string | null): string {
  const at = DateTime.fromISO(iso, { setZone: true });
  if (!at.isValid) return iso;
  return (zone ? at.setZone(zone) : at).toFormat("d LLL yyyy, HH:mm");
}

export async function places(db: Db, locationIds: string[]): Promise<Map<string, Place>> {
  const rows = await db.location.findMany({
    where: { id: { in: [...new Set(locationIds)] } },
    select: { id: true, name: true, timeZone: true },
  });
  return new Map(rows.map((r) => [r.id, { name: r.name, zone: r.timeZone }]));
}

/** A plan for the console: its blocks (the first few hundred) and conflicts, with names and local times. */
export async function planPage(
  db: Db,
  names: CalendarNames,
  plans: BlockPlanService,
  principal: Principal,
  id: string,
) {
  const plan = await plans.view(principal, id, "all");
  const blocks = plan.blocks!.slice(0, BLOCKS_SHOWN);
  const shown = [...blocks, ...plan.conflicts];
  const [where, calendars] = await Promise.all([
    places(
      db,
      shown.map((b) => b.locationId),
    ),
    names.of(shown.map((b) => ({ locationId: b.locationId, calendarId: "calendarId" in b ? b.calendarId : null }))),
  ]);
  const show = <T extends { locationId: string; calendarId?: string | null; startTime: string; endTime: string }>(
    b: T,
  ) => {
    const place = where.get(b.locationId);
    const zone = place?.zone ?? null;
    return {
      ...b,
      locationName: place?.name ?? null,
      calendarName: calendars(b.locationId, b.calendarId),
      zone,
      start: localTime(b.startTime, zone),
      end: localTime(b.endTime, zone),
    };
  };
  return { plan, blocks: blocks.map(show), conflicts: plan.conflicts.map(show), blockCount: plan.blocks!.length };
}
