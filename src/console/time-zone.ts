import type { Request, Response } from "express";
import { DateTime, IANAZone } from "luxon";
import { sessionCookie } from "../auth/session-cookie";

/**
 * The console shows times in the operator's own zone, named beside each time ("14:00:00 CET"),
 * not in UTC to be converted in one's head. The zone is the browser's, sent once by the sign-in
 * form (public/console.js), or one the operator picked; it is a preference, not a secret, so a
 * plain cookie keeps it across sign-ins. Without either, UTC.
 */
export const ZONE_COOKIE = "console_tz";
const YEAR_MS = 365 * 24 * 3600 * 1000;

export const validZone = (value: unknown): value is string =>
  typeof value === "string" && value.length <= 64 && (value === "UTC" || IANAZone.isValidZone(value));

/** The zone the console shows times in for this request. */
export function operatorZone(req: Request): string {
  const cookie = req.headers.cookie
    ?.split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${ZONE_COOKIE}=`));
  const value = cookie ? decodeURIComponent(cookie.slice(ZONE_COOKIE.length + 1)) : undefined;
  return validZone(value) ? value : "UTC";
}

export function keepZone(res: Response, zone: string, baseUrl: string): void {
  res.cookie(ZONE_COOKIE, zone, sessionCookie(baseUrl, YEAR_MS, "/console", { framed: false }));
}

/** Whether this browser already chose a zone (an explicit choice outlives the next sign-in). */
export const hasZone = (req: Request): boolean => req.headers.cookie?.includes(`${ZONE_COOKIE}=`) ?? false;

/** `2030-05-01 14:00:00 CEST`: the date, the time and the zone's short name, in `zone`. */
export function formatIn(date: Date, zone: string): string {
  return DateTime.fromJSDate(date, { zone }).toFormat("yyyy-MM-dd HH:mm:ss ZZZZ", { locale: "en-US" });
}

/** "Europe/Berlin (UTC+01:00)": the zone as the console's header names it, with its offset now. */
export function describeZone(zone: string, now = new Date()): string {
  if (zone === "UTC") return "UTC";
  return `${zone} (UTC${DateTime.fromJSDate(now, { zone }).toFormat("ZZ")})`;
}

/**
 * Every zone the runtime knows, for the picker: UTC first. ICU lists some zones by their older
 * names (Asia/Calcutta); a browser may send the newer one (Asia/Kolkata), which is kept in the list.
 */
export function allZones(current: string): string[] {
  const zones = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  const listed = ["UTC", ...zones.filter((z) => z !== "UTC")];
  return listed.includes(current)
    ? listed
    : [...listed, current].sort((a, b) => (a === "UTC" ? -1 : a.localeCompare(b)));
}
