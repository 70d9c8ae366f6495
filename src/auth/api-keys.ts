import { UUID } from "../util/ids";
import crypto from "node:crypto";
import os from "node:os";
import type { Actor, AuditLog } from "../audit/log";
import type { Db } from "../db/client";
import { NotifiedCache } from "../db/notified-cache";
import type { ApiKeyScope } from "../generated/prisma/client";
import type { BootstrapKey } from "../config";

/** Who is calling: a bootstrap key from API_KEYS (full access) or a stored key with its scope. */
export interface Principal {
  /** Stable per key; idempotency keys are kept per principal so two clients never collide. */
  id: string;
  name: string;
  scope: ApiKeyScope;
  companyId?: string;
  locationId?: string;
}

export type KeyScope =
  { scope: "all" } | { scope: "company"; companyId: string } | { scope: "location"; locationId: string };

export interface CreatedKey {
  id: string;
  /** Shown once; only its digest is stored. */
  key: string;
  name: string;
  scope: ApiKeyScope;
}

const KEY_PREFIX = "hlbs_";

/** Whoever runs the command line: the account's name, as the machine knows it. */
function operator(): Actor {
  let name: string | null = null;
  try {
    name = os.userInfo().username;
  } catch {
    // No account name (some containers): the record still says it came from the command line.
  }
  return { kind: "cli", name };
}

/** A key's audit record: its id and name (the subject), and the location or company it is for. */
const keyRecord = (row: { id: string; companyId: string | null; locationId: string | null }) => ({
  subjectId: row.id,
  companyId: row.companyId,
  locationId: row.locationId,
});
const digestHex = (key: string) => crypto.createHash("sha256").update(key).digest("hex");

/** How long a stored key's principal is reused while revocations are announced (they drop it at once). */
const NOTIFIED_CACHE_MS = 600_000;
/** A key's last use is written at most this often per process: a write per request would cost more than the request. */
const USE_RECORDED_EVERY_MS = 300_000;

/**
 * Stored API keys: created and revoked from the CLI, looked up by digest. While change
 * notifications arrive (`api_key_changes`, sent by a trigger on every update or delete of a key)
 * a key found valid is kept in this process until a change to it is announced; otherwise every
 * request looks it up, so a revocation always takes effect at once in every process.
 */
export class ApiKeyService {
  private readonly bootstrap: Map<string, Principal>;
  /** Stored keys found valid, by digest. */
  private readonly recent = new NotifiedCache<Principal>({ ttlMs: NOTIFIED_CACHE_MS, maxSize: 10_000 });
  /** Stored keys' ids, with when this process last recorded their use. */
  private readonly useRecorded = new Map<string, number>();

  constructor(
    private readonly db: Db,
    bootstrapKeys: readonly BootstrapKey[],
    private readonly audit: AuditLog,
  ) {
    this.bootstrap = new Map(
      bootstrapKeys.map(({ name, key }) => {
        const hash = digestHex(key);
        return [hash, { id: `bootstrap:${hash.slice(0, 16)}`, name, scope: "all" as const }];
      }),
    );
  }

  /**
   * The principal for a presented key, or undefined. A Map lookup by SHA-256 digest: the
   * comparison is on digests, so neither a key's length nor its prefix leaks through timing.
   */
  async authenticate(key: string): Promise<Principal | undefined> {
    const hash = digestHex(key);
    const boot = this.bootstrap.get(hash);
    if (boot) return boot;
    if (!key.startsWith(KEY_PREFIX)) return undefined;
    const kept = this.recent.get(hash);
    if (kept) return this.used(kept);
    const version = this.recent.version();
    const row = await this.db.apiKey.findUnique({ where: { hash } });
    if (!row || row.revokedAt) return undefined;
    const principal: Principal = {
      id: row.id,
      name: row.name,
      scope: row.scope,
      ...(row.companyId ? { companyId: row.companyId } : {}),
      ...(row.locationId ? { locationId: row.locationId } : {}),
    };
    this.recent.set(hash, principal, version);
    return this.used(principal);
  }

  /**
   * Records the key's use in the background (`list` shows it). Never in the request's way: a
   * failed write only leaves the date older than it should be.
   */
  private used(principal: Principal): Principal {
    const now = Date.now();
    if (now - (this.useRecorded.get(principal.id) ?? 0) < USE_RECORDED_EVERY_MS) return principal;
    if (this.useRecorded.size >= 10_000) this.useRecorded.clear();
    this.useRecorded.set(principal.id, now);
    const since = new Date(now - USE_RECORDED_EVERY_MS);
    void this.db.apiKey
      .updateMany({
        where: { id: principal.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: since } }] },
        data: { lastUsedAt: new Date(now) },
      })
      .catch(() => {});
    return principal;
  }

  listenForChanges(notifications: { readonly listening: boolean }): void {
    this.recent.listenTo(notifications);
  }

  /** `api_key_changes`: the key with this id was updated (revoked) or deleted. */
  changed(id: string): void {
    this.recent.deleteWhere((principal) => principal.id === id);
  }

  lost(): void {
    this.recent.clear();
  }

  /** `actor`: who made it (the operator at the command line by default). The record names the key, never shows it. */
  async create(name: string, scope: KeyScope, actor: Actor = operator()): Promise<CreatedKey> {
    const key = KEY_PREFIX + crypto.randomBytes(32).toString("base64url");
    const row = await this.db.$transaction(async (tx) => {
      const row = await tx.apiKey.create({
        data: {
          name,
          prefix: key.slice(0, KEY_PREFIX.length + 6),
          hash: digestHex(key),
          scope: scope.scope,
          companyId: scope.scope === "company" ? scope.companyId : null,
          locationId: scope.scope === "location" ? scope.locationId : null,
        },
      });
      await this.audit.within(tx, { action: "api_key.created", actor, ...keyRecord(row) });
      return row;
    });
    return { id: row.id, key, name: row.name, scope: row.scope };
  }

  /** True when a key was revoked now; false when there is no such live key. Accepts the id or the key itself. */
  async revoke(idOrKey: string, actor: Actor = operator()): Promise<boolean> {
    const where = idOrKey.startsWith(KEY_PREFIX)
      ? { hash: digestHex(idOrKey) }
      : UUID.test(idOrKey)
        ? { id: idOrKey }
        : undefined;
    if (!where) return false;
    return this.db.$transaction(async (tx) => {
      const [row] = await tx.apiKey.updateManyAndReturn({
        where: { ...where, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      if (row) await this.audit.within(tx, { action: "api_key.revoked", actor, ...keyRecord(row) });
      return row !== undefined;
    });
  }

  list() {
    return this.db.apiKey.findMany({
      orderBy: { createdAt: "asc" },
      select: {
        id: true,
        name: true,
        prefix: true,
        scope: true,
        companyId: true,
        locationId: true,
        createdAt: true,
        revokedAt: true,
        lastUsedAt: true,
      },
    });
  }
}
