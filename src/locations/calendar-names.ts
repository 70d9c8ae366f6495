import type { Logger } from "pino";
import type { Db } from "../db/client";
import { Prisma } from "../generated/prisma/client";

/** How long a console page waits for HighLevel's calendar list before it shows ids instead. */
const LEARN_WAIT_MS = 1500;
/** A location is asked again only after this long: a deleted calendar must not cost a call per page view. */
const ASK_AGAIN_MS = 15 * 60_000;
/** Locations asked per page at most: a page of records from a hundred sub-accounts stays one short wait. */
const LEARN_PER_PAGE = 5;

/**
 * Calendar names as HighLevel last listed them. They are kept wherever the app lists calendars anyway
 * (the custom page, block plans, blocking rules); the console reads them here, so a page of a hundred
 * records names its calendars without a hundred calls to HighLevel. A calendar the app has never
 * listed (blocks made only through the API) is learnt when a console page first shows it.
 */
export class CalendarNames {
  private lister?: (locationId: string) => Promise<unknown>;
  /** Location → when its calendars were last asked for here. */
  private readonly asked = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  /** How to list a location's calendars (which keeps their names through `remember`). */
  learnFrom(lister: (locationId: string) => Promise<unknown>): void {
    this.lister = lister;
  }

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
    const read = async () =>
      wanted.length
        ? await this.db.calendarName.findMany({
            where: { id: { in: wanted } },
            select: { id: true, locationId: true, name: true },
          })
        : [];
    let rows = await read();
    const named = new Set(rows.map((r) => `${r.locationId}\n${r.id}`));
    const unnamed = pairs.filter((p) => p.locationId && p.calendarId && !named.has(`${p.locationId}\n${p.calendarId}`));
    if (unnamed.length && (await this.learn(unnamed.map((p) => p.locationId!)))) rows = await read();
    const known = new Map(rows.map((r) => [r.id, r]));
    return (locationId, calendarId) => {
      const row = calendarId ? known.get(calendarId) : undefined;
      return row && row.locationId === locationId ? row.name : null;
    };
  }

  /**
   * Lists the calendars of a few locations with unnamed calendars, waiting briefly: true when any
   * listing finished in time. One that finishes later still keeps its names for the next page.
   */
  private async learn(locationIds: string[]): Promise<boolean> {
    const lister = this.lister;
    if (!lister) return false;
    const now = Date.now();
    const due = [...new Set(locationIds)]
      .filter((id) => now - (this.asked.get(id) ?? -Infinity) >= ASK_AGAIN_MS)
      .slice(0, LEARN_PER_PAGE);
    if (due.length === 0) return false;
    for (const id of due) this.asked.set(id, now);
    if (this.asked.size > 10_000) {
      for (const [id, at] of this.asked) if (now - at >= ASK_AGAIN_MS) this.asked.delete(id);
    }
    let finished = false;
    const listed = Promise.allSettled(
      due.map((id) =>
        lister(id).then(
          () => (finished = true),
          (err: unknown) => this.log.debug({ locationId: id, reason: (err as Error).message }, "calendars not listed"),
        ),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, LEARN_WAIT_MS);
      timer.unref();
    });
    await Promise.race([listed, waited]);
    clearTimeout(timer);
    return finished;
  }
}
