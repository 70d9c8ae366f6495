import type { Logger } from "pino";
import type { Db } from "../db/client";
import { Prisma } from "../generated/prisma/client";

/**
 * Calendar names as HighLevel last listed them. HighLevel is asked for them only where the app lists
 * calendars anyway (the custom page, block plans, blocking rules); the console reads them here, so
 * a page of a hundred records names its calendars without a hundred calls to HighLevel.
 */
export class CalendarNames {
  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  /** Keeps what was just listed. A failure costs a name on a console page, never the listing. */
  async remember(locationId: string, calendars: { id: string; name: string }[]): Promise<void> {
    const named = calendars.filter((c) => typeof c.name === "string" && c.name !== "");
    if (named.length === 0) return;
    try {
      await this.db.$executeRaw(Prisma.sql`
        INSERT INTO calendars (id, location_id, name, seen_at)
        SELECT c.id, ${locationId}, c.name, now() AT TIME ZONE 'UTC'
          FROM unnest(${named.map((c) => c.id)}::text[], ${named.map((c) => c.name)}::text[]) AS c(id, name)
        ON CONFLICT (id) DO UPDATE SET location_id = EXCLUDED.location_id, name = EXCLUDED.name,
                                       seen_at = EXCLUDED.seen_at`);
    } catch (err) {
      this.log.warn({ err, locationId }, "calendar names not kept");
    }
  }

  /**
   * Names for these (location, calendar) pairs, as `name(locationId, calendarId)`: null for a calendar
   * never listed, or listed in another location (a failed item naming another location's calendar
   * must not read as if this location had it).
   */
  async of(
    pairs: { locationId: string | null; calendarId?: string | null }[],
  ): Promise<(locationId: string | null, calendarId: string | null | undefined) => string | null> {
    const wanted = [...new Set(pairs.flatMap((p) => (p.calendarId ? [p.calendarId] : [])))];
    const rows = wanted.length
      ? await this.db.calendarName.findMany({
          where: { id: { in: wanted } },
          select: { id: true, locationId: true, name: true },
        })
      : [];
    const known = new Map(rows.map((r) => [r.id, r]));
    return (locationId, calendarId) => {
      const row = calendarId ? known.get(calendarId) : undefined;
      return row && row.locationId === locationId ? row.name : null;
    };
  }
}
