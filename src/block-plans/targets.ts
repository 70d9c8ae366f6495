import type { Principal } from "../auth/api-keys";
import type { AccessPolicy } from "../auth/scope";
import type { BlockSlotService } from "../block-slots/service";
import type { Db } from "../db/client";
import { AppError, forbidden, type FieldError } from "../errors";
import type { LocationDirectory } from "../locations/directory";
import { mapLimit } from "../util/concurrency";
import type { PlanBody } from "./schemas";

/** One calendar or one user of one location, with the zone its occurrences are placed in. */
export interface ResolvedTarget {
  locationId: string;
  calendarId?: string;
  assignedUserId?: string;
  zone: string;
}

/** Calendars of a location are listed once per this long: a preview then an apply list them once. */
const CALENDARS_TTL_MS = 5 * 60_000;
/** Locations read from HighLevel side by side (calendars, time zones). */
const CONCURRENCY = 8;

export const targetKey = (t: { locationId: string; calendarId?: string | null; assignedUserId?: string | null }) =>
  t.calendarId ? `${t.locationId}|calendar:${t.calendarId}` : `${t.locationId}|user:${t.assignedUserId}`;

/**
 * Turns a plan's targets into concrete (location, calendar | user) pairs. The key's scope is checked
 * for every location before anything is read from HighLevel: one location outside it is a 403 for all.
 */
export class PlanTargets {
  private readonly calendarCache = new Map<string, { until: number; ids: Promise<string[]> }>();

  constructor(
    private readonly db: Db,
    private readonly access: AccessPolicy,
    private readonly slots: BlockSlotService,
    private readonly directory: LocationDirectory,
  ) {}

  async resolve(principal: Principal, body: PlanBody): Promise<ResolvedTarget[]> {
    const locationsOf = await this.locations(principal, body);
    const all = [...new Set([...locationsOf.values()].flat())];
    await this.access.assertLocations(principal, all);
    const zones = await this.zones(body, locationsOf);
    const calendars = await this.calendars(body, locationsOf);

    const resolved = new Map<string, ResolvedTarget>();
    const problems: FieldError[] = [];
    body.targets.forEach((target, i) => {
      for (const locationId of locationsOf.get(i) ?? []) {
        const zone = zones.get(locationId)!;
        const listed = calendars.get(locationId);
        const pairs: Omit<ResolvedTarget, "zone">[] = target.userIds
          ? target.userIds.map((assignedUserId) => ({ locationId, assignedUserId }))
          : (target.calendarIds ?? listed ?? []).map((calendarId) => ({ locationId, calendarId }));
        target.calendarIds?.forEach((id, j) => {
          if (listed && !listed.includes(id)) {
            problems.push({
              path: `targets.${i}.calendarIds.${j}`,
              message: `is not a calendar of location ${locationId}`,
            });
          }
        });
        for (const pair of pairs) resolved.set(targetKey(pair), { ...pair, zone });
      }
    });
    if (problems.length)
      throw new AppError("invalid_request", "Some named calendars do not exist.", { errors: problems });
    return [...resolved.values()];
  }

  /** Target index → its locations; company targets checked against the key first, then expanded. */
  private async locations(principal: Principal, body: PlanBody): Promise<Map<number, string[]>> {
    const companies = [...new Set(body.targets.flatMap((t) => (t.companyId ? [t.companyId] : [])))];
    for (const companyId of companies) {
      if (principal.scope === "all" || (principal.scope === "company" && principal.companyId === companyId)) continue;
      throw forbidden(`The API key "${principal.name}" may not act on company ${companyId}'s locations.`);
    }
    const active = companies.length
      ? await this.db.location.findMany({
          where: { companyId: { in: companies }, status: "active" },
          select: { id: true, companyId: true },
          orderBy: { id: "asc" },
        })
      : [];
    const byIndex = new Map<number, string[]>();
    body.targets.forEach((t, i) => {
      byIndex.set(
        i,
        t.locationId ? [t.locationId] : active.filter((l) => l.companyId === t.companyId).map((l) => l.id),
      );
    });
    return byIndex;
  }

  private async zones(body: PlanBody, locationsOf: Map<number, string[]>): Promise<Map<string, string>> {
    const ids = [...new Set([...locationsOf.values()].flat())];
    if (body.timeZone !== "location") return new Map(ids.map((id) => [id, body.timeZone]));
    const stored = await this.db.location.findMany({
      where: { id: { in: ids } },
      select: { id: true, timeZone: true },
    });
    const zones = new Map(stored.flatMap((l) => (l.timeZone ? [[l.id, l.timeZone] as const] : [])));
    const missing = ids.filter((id) => !zones.has(id));
    const read = await mapLimit(missing, CONCURRENCY, (id) => this.directory.timeZoneOf(id));
    const problems: FieldError[] = [];
    missing.forEach((id, k) => {
      const zone = read[k];
      if (zone) zones.set(id, zone);
      else {
        const i = [...locationsOf.entries()].find(([, locs]) => locs.includes(id))?.[0] ?? 0;
        problems.push({
          path: `targets.${i}`,
          message: `HighLevel gives location ${id} no time zone the app can read: name one with timeZone`,
        });
      }
    });
    if (problems.length)
      throw new AppError("invalid_request", "Some locations have no time zone.", { errors: problems });
    return zones;
  }

  /** Calendar ids of the locations whose targets need them ("all", or named ids to check). */
  private async calendars(body: PlanBody, locationsOf: Map<number, string[]>): Promise<Map<string, string[]>> {
    const ids = [
      ...new Set(body.targets.flatMap((t, i) => (t.calendars === "all" || t.calendarIds ? locationsOf.get(i)! : []))),
    ];
    const lists = await mapLimit(ids, CONCURRENCY, (id) => this.calendarIds(id));
    return new Map(ids.map((id, k) => [id, lists[k]!]));
  }

  private calendarIds(locationId: string): Promise<string[]> {
    const now = Date.now();
    const kept = this.calendarCache.get(locationId);
    if (kept && kept.until > now) return kept.ids;
    if (this.calendarCache.size > 10_000) {
      for (const [id, entry] of this.calendarCache) if (entry.until <= now) this.calendarCache.delete(id);
    }
    const ids = this.slots.calendars(locationId).then((list) => list.map((c) => c.id));
    this.calendarCache.set(locationId, { until: now + CALENDARS_TTL_MS, ids });
    // A failed listing is not kept: the next plan asks HighLevel again.
    ids.catch(() => this.calendarCache.delete(locationId));
    return ids;
  }
}
