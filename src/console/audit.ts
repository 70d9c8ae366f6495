import { DateTime } from "luxon";
import type { Principal } from "../auth/api-keys";
import type { AccessPolicy } from "../auth/scope";
import type { AuditTrail } from "../audit/trail";
import type { CalendarNames } from "../locations/calendar-names";
import type { Db } from "../db/client";

export const AUDIT_SHOWN = 100;

export const ACTION_TEXT: Record<string, string> = {
  "block.created": "Block created",
  "block.updated": "Block edited",
  "block.deleted": "Block deleted",
  "plan.applied": "Plan applied",
  "plan.changed": "Plan changed",
  "plan.deleted": "Plan undone",
  "rule.created": "Blocking rule created",
  "rule.deleted": "Blocking rule deleted",
  "api_key.created": "API key created",
  "api_key.revoked": "API key revoked",
  install: "Installed",
  uninstall: "Uninstalled",
};

export const ACTOR_TEXT: Record<string, string> = {
  api_key: "API key",
  user: "HighLevel user",
  webhook: "Webhook",
  rule: "Blocking rule",
  plan: "Block plan",
  bulk_job: "Bulk job",
  cli: "Command line",
};

export interface AuditPageQuery {
  locationId?: string;
  before?: bigint;
}

/** `?locationId=` and `?before=` as the form and the "older" link send them; anything else is ignored. */
export function parseAuditQuery(query: Record<string, unknown>): AuditPageQuery {
  const locationId = typeof query.locationId === "string" ? query.locationId.trim().slice(0, 100) : "";
  const before = typeof query.before === "string" && /^[1-9][0-9]{0,17}$/.test(query.before) ? query.before : "";
  return { ...(locationId ? { locationId } : {}), ...(before ? { before: BigInt(before) } : {}) };
}

/** `09:15 America/New_York`: when it happened in the location's own time, zone named. */
const localTime = (at: Date, zone: string | null) =>
  zone ? `${DateTime.fromJSDate(at).setZone(zone).toFormat("d LLL yyyy, HH:mm")} ${zone}` : null;

/**
 * The console's audit page: the latest records the key may see, with the names of their
 * locations (from the locations table) and API keys, and the locations to filter by.
 */
export async function auditPage(
  db: Db,
  names: CalendarNames,
  trail: AuditTrail,
  access: AccessPolicy,
  principal: Principal,
  query: AuditPageQuery,
) {
  const [page, locations] = await Promise.all([
    trail.page(access.recordWhere(principal), { ...query, limit: AUDIT_SHOWN }),
    db.location.findMany({
      where: access.locationWhere(principal),
      orderBy: [{ name: "asc" }, { id: "asc" }],
      take: 1000,
      select: { id: true, name: true, timeZone: true },
    }),
  ]);
  const places = new Map(locations.map((l) => [l.id, l]));
  const missing = [
    ...new Set(page.events.flatMap((e) => (e.locationId && !places.has(e.locationId) ? [e.locationId] : []))),
  ];
  const keyIds = [
    ...new Set(
      page.events.flatMap((e) => [
        ...(e.actorKind === "api_key" && e.actorId && !e.actorId.includes(":") ? [e.actorId] : []),
        ...(e.action.startsWith("api_key.") && e.subjectId ? [e.subjectId] : []),
      ]),
    ),
  ];
  const companyIds = [...new Set(page.events.flatMap((e) => (e.companyId && !e.locationId ? [e.companyId] : [])))];
  // The names of what the records point at, in one round of queries.
  const [more, keys, companies, calendars] = await Promise.all([
    missing.length
      ? db.location.findMany({ where: { id: { in: missing } }, select: { id: true, name: true, timeZone: true } })
      : [],
    keyIds.length ? db.apiKey.findMany({ where: { id: { in: keyIds } }, select: { id: true, name: true } }) : [],
    companyIds.length
      ? db.company.findMany({ where: { id: { in: companyIds } }, select: { id: true, name: true } })
      : [],
    names.of(page.events),
  ]);
  for (const l of more) places.set(l.id, l);
  const keyNames = new Map(keys.map((k) => [k.id, k.name]));
  const companyNames = new Map(companies.map((c) => [c.id, c.name]));
  const events = page.events.map((e) => {
    const place = e.locationId ? places.get(e.locationId) : undefined;
    return {
      id: e.id.toString(),
      at: e.at,
      localAt: localTime(e.at, place?.timeZone ?? null),
      // "Location installed" or "Agency installed": a location's record names it, an agency's does not.
      action:
        e.action === "install" || e.action === "uninstall"
          ? `${e.locationId ? "Location" : "Agency"} ${e.action === "install" ? "installed" : "uninstalled"}`
          : (ACTION_TEXT[e.action] ?? e.action),
      actionCode: e.action,
      actorKind: ACTOR_TEXT[e.actorKind] ?? e.actorKind,
      actorName: (e.actorKind === "api_key" && e.actorId && keyNames.get(e.actorId)) || e.actorName,
      actorId: e.actorId,
      locationId: e.locationId,
      locationName: place?.name ?? null,
      companyId: e.companyId,
      companyName: e.companyId ? (companyNames.get(e.companyId) ?? null) : null,
      blockSlotId: e.blockSlotId,
      calendarId: e.calendarId,
      calendarName: calendars(e.locationId, e.calendarId),
      assignedUserId: e.calendarId ? null : e.assignedUserId,
      subjectId: e.subjectId,
      subjectName: e.subjectId ? (keyNames.get(e.subjectId) ?? null) : null,
      ok: e.outcome === "ok",
      errorCode: e.errorCode,
    };
  });
  return { events, locations, older: page.next?.toString() ?? null };
}
