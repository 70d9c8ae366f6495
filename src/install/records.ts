import crypto from "node:crypto";
import type { Db } from "../db/client";
import type { Prisma } from "../generated/prisma/client";
import { QUEUES, type JobQueue } from "../jobs/queue";

type Tx = Prisma.TransactionClient;

/** A location an agency install covers; the name when the listing gave one. */
export interface AgencyLocation {
  id: string;
  name?: string | null;
}

export interface MintRef {
  locationId: string;
}

export interface DiscoveryRef {
  installId: string;
}

export interface DetailsRef {
  locationId: string;
  /** Details read at or after this instant make the job unnecessary (ISO-8601). */
  requestedAt: string;
}

/** 144 random bits: the install's progress page is reachable only by whoever holds its address. */
export const newInstallId = () => crypto.randomBytes(18).toString("base64url");

/**
 * The durable side of installs: the install row behind a progress page, the locations it covers,
 * and the queued work that connects them. Everything here runs inside the caller's transaction, so
 * the rows and the jobs that act on them commit together or not at all.
 */
export class InstallRecords {
  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
  ) {}

  async create(
    tx: Tx,
    data: {
      kind: "company" | "location";
      companyId?: string | null;
      locationId?: string;
      origin?: "callback" | "webhook";
    },
  ): Promise<string> {
    const id = newInstallId();
    await tx.install.create({
      data: {
        id,
        kind: data.kind,
        companyId: data.companyId ?? null,
        locationId: data.locationId ?? null,
        origin: data.origin ?? "callback",
        ...(data.kind === "location" ? { locationsKnownAt: new Date() } : {}),
      },
    });
    return id;
  }

  /**
   * Puts an agency's locations on the install and queues one mint per location that has no
   * working token. A location already active with a token keeps it and is not minted again, nor is
   * one HighLevel calls inactive that still holds its tokens (they work again later); one still
   * connecting keeps its lease, so a mint in flight is never doubled. The test is made again by
   * each write, so a token stored meanwhile (the browser's own install finishing) is never wiped.
   * Returns how many mints were queued.
   */
  async connect(tx: Tx, installId: string, companyId: string, locations: AgencyLocation[]): Promise<number> {
    const byId = new Map(locations.map((l) => [l.id, l]));
    const ids = [...byId.keys()];
    // Raw statements of one JSON parameter each, one round trip per step: Prisma compiles every
    // listed id into its statement, and each new statement shape on a process's first install,
    // which together took most of a second for a 1,000-location agency while the browser waited.
    // The columns hold UTC without a zone (Prisma's DateTime): the same instant as `now`, whatever the server's zone.
    const at = new Date().toISOString();
    const existing = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM locations WHERE id IN (SELECT json_array_elements_text(${JSON.stringify(ids)}::json))`;
    const known = new Set(existing.map((l) => l.id));
    const fresh = ids.filter((id) => !known.has(id)).map((id) => ({ id, name: byId.get(id)?.name ?? null }));
    const minted = new Set<string>();
    if (fresh.length > 0) {
      const inserted = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO locations (id, company_id, name, source, status, installed_at, updated_at)
        SELECT r.id, ${companyId}, r.name, 'agency'::"LocationSource", 'connecting'::"InstallStatus",
               ${at}::timestamptz AT TIME ZONE 'UTC', ${at}::timestamptz AT TIME ZONE 'UTC'
          FROM json_to_recordset(${JSON.stringify(fresh)}::json) AS r(id text, name text)
        ON CONFLICT (id) DO NOTHING
        RETURNING id`;
      for (const r of inserted) minted.add(r.id);
    }
    // Rows that existed without usable tokens (failed, uninstalled, needing a reinstall…) start
    // connecting afresh. The condition is the UPDATE's own: it holds for the row as it is when written.
    if (known.size > 0) {
      const restarted = await tx.$queryRaw<{ id: string }[]>`
        UPDATE locations
           SET company_id = ${companyId}, source = 'agency'::"LocationSource", status = 'connecting'::"InstallStatus",
               last_error = NULL, access_token_enc = NULL, refresh_token_enc = NULL, token_expires_at = NULL,
               installed_at = ${at}::timestamptz AT TIME ZONE 'UTC', updated_at = ${at}::timestamptz AT TIME ZONE 'UTC'
         WHERE id IN (SELECT json_array_elements_text(${JSON.stringify([...known])}::json))
           AND NOT (status = 'active' AND access_token_enc IS NOT NULL)
           AND NOT (status = 'inactive' AND refresh_token_enc IS NOT NULL)
        RETURNING id`;
      for (const r of restarted) minted.add(r.id);
    }
    const toMint = ids.filter((id) => minted.has(id));
    const kept = ids.filter((id) => !minted.has(id));
    // A newer install: an UNINSTALL received before it must not undo it (src/webhooks/lifecycle.ts).
    if (kept.length > 0)
      await tx.$executeRaw`
        UPDATE locations SET installed_at = ${at}::timestamptz AT TIME ZONE 'UTC', updated_at = ${at}::timestamptz AT TIME ZONE 'UTC'
         WHERE id IN (SELECT json_array_elements_text(${JSON.stringify(kept)}::json))`;
    await tx.$executeRaw`
      INSERT INTO install_locations (install_id, location_id)
      SELECT ${installId}, x FROM json_array_elements_text(${JSON.stringify(ids)}::json) AS x
      ON CONFLICT DO NOTHING`;
    // A mint row left by an earlier install is the agency's again, its failures forgotten; its
    // lease stays, so a mint in flight is never doubled.
    await tx.$executeRaw`
      INSERT INTO location_mints (location_id, company_id, updated_at)
      SELECT x, ${companyId}, ${at}::timestamptz AT TIME ZONE 'UTC' FROM json_array_elements_text(${JSON.stringify(toMint)}::json) AS x
      ON CONFLICT (location_id) DO UPDATE SET company_id = EXCLUDED.company_id, failures = 0, updated_at = EXCLUDED.updated_at`;
    await this.queue.insertWithin(
      tx,
      QUEUES.locationMint,
      toMint.map((locationId) => ({ data: { locationId } satisfies MintRef })),
    );
    await tx.$executeRaw`
      UPDATE installs SET locations_known_at = ${at}::timestamptz AT TIME ZONE 'UTC' WHERE id = ${installId}`;
    return toMint.length;
  }

  /** Queues a read of the location's name and time zone (src/locations/details-worker.ts). */
  readDetails(tx: Tx, locationIds: string[]): Promise<void> {
    const requestedAt = new Date().toISOString();
    return this.queue.insertWithin(
      tx,
      QUEUES.locationDetails,
      locationIds.map((locationId) => ({ data: { locationId, requestedAt } satisfies DetailsRef })),
    );
  }

  /** Queues the listing of an agency's installed locations (src/install/discovery.ts). */
  discover(tx: Tx, installId: string): Promise<void> {
    return this.queue.insertWithin(tx, QUEUES.installDiscovery, [{ data: { installId } satisfies DiscoveryRef }]);
  }

  /** The latest install through the browser of this agency (or covering this location) since `since`. */
  latestSince(since: Date, where: { companyId: string } | { locationId: string }) {
    return this.db.install.findFirst({
      where: {
        startedAt: { gte: since },
        origin: "callback",
        ...("companyId" in where ? { companyId: where.companyId } : { locations: { some: where } }),
      },
      orderBy: { startedAt: "desc" },
      select: { id: true, startedAt: true },
    });
  }
}
