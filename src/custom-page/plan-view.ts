import type { PlannedBlock } from "../block-plans/planner";
import type { Conflict } from "../block-plans/schemas";
import type { Services } from "../services";
import { mapLimit } from "../util/concurrency";
import { whoseTime, type Whose } from "./calendar-view";

/** Occurrences shown per sub-account in a preview: enough to check the hours, few enough to read. */
const FIRST = 3;
/** Conflicts listed by name; the rest are counted. */
const MAX_CONFLICTS = 100;
/** Blocks listed when a plan is opened again; failed ones are always listed. */
const MAX_BLOCKS_SHOWN = 60;
/** Sub-accounts whose calendars are read side by side to name them. */
const CONCURRENCY = 4;

export interface Place {
  locationId: string;
  calendarId?: string | null;
  assignedUserId?: string | null;
}

/**
 * Names of sub-accounts (and their zones) and of their calendars and team members, for the page.
 * Calendars are read from HighLevel only for the sub-accounts asked about; one that cannot be read
 * is named by id rather than failing the whole answer.
 */
export class Names {
  private constructor(
    private readonly locations: Map<string, { name: string | null; timeZone: string | null }>,
    private readonly whose: Map<string, Whose | undefined>,
  ) {}

  static async of(
    services: Services,
    me: { userId: string; userName?: string },
    locationIds: string[],
    withCalendars: string[] = [],
  ): Promise<Names> {
    const ids = [...new Set(locationIds)];
    const rows = await services.db.location.findMany({
      where: { id: { in: ids } },
      select: { id: true, name: true, timeZone: true },
    });
    // HighLevel gives every location a zone; one not stored yet is asked for.
    const zones = await mapLimit(rows, CONCURRENCY, (r) =>
      r.timeZone ? Promise.resolve(r.timeZone) : services.locations.timeZoneOf(r.id).catch(() => undefined),
    );
    const calendarIds = [...new Set(withCalendars)];
    const lists = await mapLimit(calendarIds, CONCURRENCY, (id) => whoseTime(services, id, me).catch(() => undefined));
    return new Names(
      new Map(rows.map((r, i) => [r.id, { name: r.name, timeZone: zones[i] ?? null }])),
      new Map(calendarIds.map((id, i) => [id, lists[i]])),
    );
  }

  location(id: string): { locationId: string; locationName: string; timeZone: string | null } {
    const row = this.locations.get(id);
    return { locationId: id, locationName: row?.name ?? `Sub-account ${id}`, timeZone: row?.timeZone ?? null };
  }

  who(place: Place): string {
    const known = this.whose.get(place.locationId);
    if (place.calendarId) {
      return known?.calendars.find((c) => c.id === place.calendarId)?.name ?? `Calendar ${place.calendarId}`;
    }
    return known?.teamMembers.find((u) => u.id === place.assignedUserId)?.name ?? `Team member ${place.assignedUserId}`;
  }
}

/**
 * A preview for people: per sub-account, how many blocks on how many calendars and its first
 * occurrences (offset times; the page shows them in the sub-account's zone), and each conflict
 * named by sub-account and calendar.
 */
export async function describePreview(
  services: Services,
  me: { userId: string; userName?: string },
  blocks: PlannedBlock[],
  conflicts: Conflict[],
) {
  const shown = conflicts
    .slice()
    .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime))
    .slice(0, MAX_CONFLICTS);
  const names = await Names.of(
    services,
    me,
    blocks.map((b) => b.locationId),
    shown.map((c) => c.locationId),
  );
  const byLocation = new Map<string, PlannedBlock[]>();
  for (const b of blocks) byLocation.set(b.locationId, [...(byLocation.get(b.locationId) ?? []), b]);
  const locations = [...byLocation].map(([id, list]) => {
    const starts = new Map<string, { startTime: string; endTime: string }>();
    for (const b of list) if (!starts.has(b.occurrence)) starts.set(b.occurrence, b);
    const occurrences = [...starts.values()].sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
    return {
      ...names.location(id),
      blocks: list.length,
      calendars: new Set(list.flatMap((b) => (b.calendarId ? [b.calendarId] : []))).size,
      teamMembers: new Set(list.flatMap((b) => (b.assignedUserId ? [b.assignedUserId] : []))).size,
      occurrences: occurrences.length,
      first: occurrences.slice(0, FIRST).map((o) => ({ startTime: o.startTime, endTime: o.endTime })),
    };
  });
  locations.sort((a, b) => a.locationName.localeCompare(b.locationName));
  return {
    total: blocks.length,
    locations,
    conflicts: shown.map((c) => ({
      ...names.location(c.locationId),
      who: names.who(c),
      kind: c.kind,
      title: c.title ?? null,
      startTime: c.startTime,
      endTime: c.endTime,
    })),
    moreConflicts: conflicts.length - shown.length,
  };
}

type PlanBlockView = Place & {
  startTime: string;
  endTime: string;
  status: string;
  error?: { code: string; detail: string };
};

/** A plan opened again: its failed blocks and its first others, named, with progress counts. */
export async function describeBlocks(
  services: Services,
  me: { userId: string; userName?: string },
  blocks: PlanBlockView[],
) {
  const failed = blocks.filter((b) => b.status === "failed");
  const others = blocks.filter((b) => b.status !== "failed").slice(0, Math.max(0, MAX_BLOCKS_SHOWN - failed.length));
  const shown = [...failed.slice(0, MAX_BLOCKS_SHOWN), ...others];
  const names = await Names.of(
    services,
    me,
    shown.map((b) => b.locationId),
    shown.map((b) => b.locationId),
  );
  return {
    blocks: shown.map((b) => ({
      ...names.location(b.locationId),
      who: names.who(b),
      startTime: b.startTime,
      endTime: b.endTime,
      status: b.status,
      ...(b.error ? { error: b.error.code } : {}),
    })),
    moreBlocks: blocks.length - shown.length,
  };
}
