import type { Db } from "../db/client";

/** How long an install's page answers: long enough to come back to, short for a leaked address. */
const VISIBLE_MS = 7 * 86_400_000;

/** The locations listed on the page (the worst first); counts always cover all of them. */
const LISTED = 200;

export type ProgressState = "listing" | "connecting" | "done" | "listing_failed";

export interface ProgressLocation {
  id: string;
  name: string | null;
  timeZone: string | null;
  status: "connected" | "failed" | "connecting";
  error?: string;
}

export interface InstallProgressView {
  id: string;
  kind: "company" | "location";
  companyId: string | null;
  /** Null until HighLevel's INSTALL webhook has said it. */
  companyName: string | null;
  startedAt: string;
  state: ProgressState;
  /** Why the agency's locations could not be listed (state `listing_failed`). */
  error?: string;
  counts: { total: number; connected: number; failed: number; connecting: number };
  locations: ProgressLocation[];
  /** Locations counted but not listed. */
  unlisted: number;
}

/** A location that left `connecting` otherwise than active has not been connected: why, in words. */
const NOT_CONNECTED: Record<string, string> = {
  uninstalled: "The app was uninstalled from this sub-account.",
  reauthorization_required: "HighLevel no longer accepts the connection: install the app again.",
  inactive: "HighLevel reports this sub-account as not active.",
};

interface Row {
  id: string;
  name: string | null;
  time_zone: string | null;
  status: string;
  last_error: string | null;
}

/** What an install's progress page and its JSON show: counts, and the locations with their names. */
export class InstallProgress {
  constructor(private readonly db: Db) {}

  async get(installId: string): Promise<InstallProgressView | null> {
    const install = await this.db.install.findFirst({
      where: { id: installId, startedAt: { gt: new Date(Date.now() - VISIBLE_MS) } },
    });
    if (!install) return null;
    const [grouped, rows, company] = await Promise.all([
      this.db.$queryRaw<{ status: string; n: number }[]>`
        SELECT l.status::text AS status, count(*)::int AS n
          FROM install_locations il JOIN locations l ON l.id = il.location_id
         WHERE il.install_id = ${installId}
         GROUP BY l.status`,
      this.db.$queryRaw<Row[]>`
        SELECT l.id, l.name, l.time_zone, l.status::text AS status, l.last_error
          FROM install_locations il JOIN locations l ON l.id = il.location_id
         WHERE il.install_id = ${installId}
         ORDER BY CASE l.status WHEN 'connecting' THEN 2 WHEN 'active' THEN 1 ELSE 0 END,
                  l.name NULLS LAST, l.id
         LIMIT ${LISTED}`,
      install.companyId
        ? this.db.company.findUnique({ where: { id: install.companyId }, select: { name: true } })
        : null,
    ]);
    const counts = { total: 0, connected: 0, failed: 0, connecting: 0 };
    for (const { status, n } of grouped) {
      counts.total += n;
      counts[progressStatus(status)] += n;
    }
    const state: ProgressState = install.lastError
      ? "listing_failed"
      : !install.locationsKnownAt
        ? "listing"
        : counts.connecting > 0
          ? "connecting"
          : "done";
    return {
      id: install.id,
      kind: install.kind,
      companyId: install.companyId,
      companyName: company?.name ?? null,
      startedAt: install.startedAt.toISOString(),
      state,
      ...(install.lastError ? { error: install.lastError } : {}),
      counts,
      locations: rows.map((r) => {
        const status = progressStatus(r.status);
        const error = status === "failed" ? (r.last_error ?? NOT_CONNECTED[r.status]) : undefined;
        return { id: r.id, name: r.name, timeZone: r.time_zone, status, ...(error ? { error } : {}) };
      }),
      unlisted: Math.max(0, counts.total - rows.length),
    };
  }
}

function progressStatus(status: string): ProgressLocation["status"] {
  if (status === "active") return "connected";
  if (status === "connecting") return "connecting";
  return "failed";
}
