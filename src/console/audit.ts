import type { Principal } from "../auth/api-keys";
import { tenancyWhere, type AccessPolicy } from "../auth/scope";
import type { ActorType, AuditTrail } from "../audit/trail";
import type { CalendarNames } from "../locations/calendar-names";
import type { Db } from "../db/client";
import { localTime } from "./placed";
import { UUID } from "../util/ids";

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

/** The "Who" menu: the published actor types in words (the app's own work as one), and as the sentence names them. */
export const WHO: Record<ActorType, { menu: string; by: string }> = {
  api_key: { menu: "API keys", by: "API keys" },
  sso_user: { menu: "HighLevel users (the custom page, installs)", by: "HighLevel users" },
  webhook: { menu: "Webhooks from HighLevel", by: "webhooks" },
  rule: { menu: "Blocking rules", by: "blocking rules" },
  system: { menu: "The app itself (bulk jobs, block plans, command line)", by: "the app itself" },
};

/** More locations than this and the page asks for a name instead of listing them all in a menu. */
export const LOCATIONS_LISTED = 1000;
/** Locations offered when a name typed matches several. */
export const MATCHES_SHOWN = 20;

export interface AuditPageQuery {
  locationId?: string;
  /** A location's name (or part of it) or id, typed where there are too many for a menu. */
  q?: string;
  /** Only records by this kind of actor. */
  who?: ActorType;
  before?: bigint;
}

/** `?locationId=`, `?q=`, `?who=` and `?before=` as the form and the "older" link send them; anything else is ignored. */
export function parseAuditQuery(query: Record<string, unknown>): AuditPageQuery {
  const text = (value: unknown) => (typeof value === "string" ? value.trim().slice(0, 100) : "");
  const [locationId, q, who] = [text(query.locationId), text(query.q), text(query.who)];
  const before = typeof query.before === "string" && /^[1-9][0-9]{0,17}$/.test(query.before) ? query.before : "";
  return {
    ...(locationId ? { locationId } : {}),
    ...(q && !locationId ? { q } : {}),
    ...(Object.hasOwn(WHO, who) ? { who: who as ActorType } : {}),
    ...(before ? { before: BigInt(before) } : {}),
  };
}

/**
 * The console's audit page: the latest records the key may see, with the names of their
 * locations (from the locations table) and API keys, and the locations to filter by: a menu, or
 * for an agency with more than `LOCATIONS_LISTED`, a name to type (one match filters by it,
 * several are offered to choose from).
 */
export async function auditPage(
  db: Db,
  names: CalendarNames,
  trail: AuditTrail,
  access: AccessPolicy,
  principal: Principal,
  query: AuditPageQuery,
) {
  const select = { id: true, name: true, timeZone: true } as const;
  const orderBy = [{ name: "asc" as const }, { id: "asc" as const }];
  const reach = access.locationWhere(principal);
  const matches = query.q
    ? await db.location.findMany({
        where: {
          AND: [reach, { OR: [{ id: query.q }, { name: { contains: query.q, mode: "insensitive" } }] }],
        },
        orderBy,
        take: MATCHES_SHOWN + 1,
        select,
      })
    : null;
  const locationId = query.locationId ?? (matches?.length === 1 ? matches[0]!.id : undefined);
  // A name that matches none or several: the choice comes first, no records until one is made.
  const choosing = matches !== null && matches.length !== 1;
  const [page, locations] = await Promise.all([
    choosing
      ? { events: [], next: null }
      : trail.page(tenancyWhere(principal), {
          locationId,
          actor: query.who,
          before: query.before,
          limit: AUDIT_SHOWN,
        }),
    db.location.findMany({ where: reach, orderBy, take: LOCATIONS_LISTED + 1, select }),
  ]);
  const places = new Map([...locations, ...(matches ?? [])].map((l) => [l.id, l]));
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
  // Plans that made a block, and plans applied, changed or undone.
  const planIds = [
    ...new Set(
      page.events.flatMap((e) => [
        ...(e.actorKind === "plan" && e.actorId ? [e.actorId] : []),
        ...(e.action.startsWith("plan.") && e.subjectId ? [e.subjectId] : []),
      ]),
    ),
  ].filter((id) => UUID.test(id));
  // Installs whose progress page still exists (kept a week): the record links to it.
  const installIds = [
    ...new Set(page.events.flatMap((e) => (e.action === "install" && e.subjectId ? [e.subjectId] : []))),
  ];
  // The names of what the records point at, in one round of queries.
  const [more, keys, companies, plans, calendars, installs] = await Promise.all([
    missing.length
      ? db.location.findMany({ where: { id: { in: missing } }, select: { id: true, name: true, timeZone: true } })
      : [],
    keyIds.length ? db.apiKey.findMany({ where: { id: { in: keyIds } }, select: { id: true, name: true } }) : [],
    companyIds.length
      ? db.company.findMany({ where: { id: { in: companyIds } }, select: { id: true, name: true } })
      : [],
    planIds.length ? db.blockPlan.findMany({ where: { id: { in: planIds } }, select: { id: true, title: true } }) : [],
    names.of(page.events),
    installIds.length ? db.install.findMany({ where: { id: { in: installIds } }, select: { id: true } }) : [],
  ]);
  const installPages = new Set(installs.map((i) => i.id));
  for (const l of more) places.set(l.id, l);
  const companyNames = new Map(companies.map((c) => [c.id, c.name]));
  // Keys by their current name, plans by their title; otherwise the name recorded with the change.
  const named = new Map<string, string>([
    ...keys.map((k) => [k.id, k.name] as const),
    ...plans.map((p) => [p.id, p.title] as const),
  ]);
  const events = page.events.map((e) => {
    const place = e.locationId ? places.get(e.locationId) : undefined;
    return {
      id: e.id.toString(),
      at: e.at,
      // When it happened in the location's own time, zone named: `28 Nov 2026, 09:15 America/New_York`.
      localAt: place?.timeZone ? `${localTime(e.at.toISOString(), place.timeZone)} ${place.timeZone}` : null,
      // "Location installed" or "Agency installed": a location's record names it, an agency's does not.
      action:
        e.action === "install" || e.action === "uninstall"
          ? `${e.locationId ? "Location" : "Agency"} ${e.action === "install" ? "installed" : "uninstalled"}`
          : (ACTION_TEXT[e.action] ?? e.action),
      actionCode: e.action,
      actorKind: ACTOR_TEXT[e.actorKind] ?? e.actorKind,
      actorName:
        (e.actorId && (e.actorKind === "api_key" || e.actorKind === "plan") && named.get(e.actorId)) || e.actorName,
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
      subjectName: e.subjectId ? (named.get(e.subjectId) ?? null) : null,
      subjectHref:
        e.action === "install" && e.subjectId && installPages.has(e.subjectId)
          ? `/oauth/installs/${encodeURIComponent(e.subjectId)}`
          : null,
      ok: e.outcome === "ok",
      errorCode: e.errorCode,
    };
  });
  return {
    events,
    // null: too many for a menu, the form asks for a name.
    locations: locations.length <= LOCATIONS_LISTED ? locations : null,
    locationId: locationId ?? null,
    locationName: locationId ? (places.get(locationId)?.name ?? null) : null,
    matches: choosing ? matches.slice(0, MATCHES_SHOWN) : null,
    moreMatches: choosing && matches.length > MATCHES_SHOWN,
    older: page.next?.toString() ?? null,
  };
}
