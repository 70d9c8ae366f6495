import type { Logger } from "pino";
import type { Db } from "../db/client";
import { Prisma } from "../generated/prisma/client";
import type { TokenCipher } from "./crypto";
import { aad, type Owner } from "./store";

/**
 * Key rotation's second half. TOKEN_ENCRYPTION_KEY's first key encrypts and all of them decrypt
 * (crypto.ts), so a new key can be put first at any time; an old one may leave only when no stored
 * token still needs it. Renewals re-encrypt the tokens they touch, but a location that is not
 * renewed (inactive, waiting for a reinstall) keeps its old ciphertext for good: removing its key
 * would lose the token. This counts tokens by key and re-encrypts the rest under the first key.
 */

const COLUMNS = [
  { owner: "location", table: "locations", field: "access", column: "access_token_enc" },
  { owner: "location", table: "locations", field: "refresh", column: "refresh_token_enc" },
  { owner: "company", table: "companies", field: "access", column: "access_token_enc" },
  { owner: "company", table: "companies", field: "refresh", column: "refresh_token_enc" },
] as const satisfies readonly { owner: Owner; table: string; field: "access" | "refresh"; column: string }[];

export interface KeyUse {
  keyId: string;
  tokens: number;
}

export interface Unreadable {
  owner: Owner;
  id: string;
  field: "access" | "refresh";
  /** Why it could not be decrypted (never any part of the token). */
  reason: string;
}

export interface ResealResult {
  /** Re-encrypted under the first key. */
  resealed: number;
  /** Rewritten by the app (a renewal) between reading and writing: left as the app wrote it. */
  changedMeanwhile: number;
  /** Not decryptable with TOKEN_ENCRYPTION_KEY: left as they were. */
  unreadable: Unreadable[];
}

export class TokenResealer {
  constructor(
    private readonly db: Db,
    private readonly cipher: TokenCipher,
  ) {}

  /** Stored tokens (access and refresh, locations and agencies) by the id of the key that encrypted them. */
  async keyUse(): Promise<KeyUse[]> {
    const parts = COLUMNS.map(
      ({ table, column }) =>
        Prisma.sql`SELECT split_part(${Prisma.raw(column)}, '.', 2) AS key_id FROM ${Prisma.raw(table)}
                    WHERE ${Prisma.raw(column)} IS NOT NULL`,
    );
    const rows = await this.db.$queryRaw<{ key_id: string; tokens: number }[]>`
      SELECT key_id, count(*)::int AS tokens FROM (${Prisma.join(parts, " UNION ALL ")}) t
       GROUP BY key_id ORDER BY key_id`;
    return rows.map((r) => ({ keyId: r.key_id, tokens: r.tokens }));
  }

  /**
   * Re-encrypts every token not under the first key, `batch` rows at a time. Safe while the app
   * runs: a row is written only if it still holds what was read, so a renewal in between wins.
   * `beforeWrite` runs between reading a batch and writing it (tests use it to renew in between).
   */
  async reseal(options: { batch?: number; beforeWrite?: () => Promise<void> } = {}): Promise<ResealResult> {
    const batch = options.batch ?? 200;
    const result: ResealResult = { resealed: 0, changedMeanwhile: 0, unreadable: [] };
    const primary = this.cipher.primaryId;
    for (const { owner, table, field, column } of COLUMNS) {
      const t = Prisma.raw(table);
      const c = Prisma.raw(column);
      let after = "";
      for (;;) {
        // Keyset by id, so rows left unread (unreadable ones) are passed, not read again.
        const rows = await this.db.$queryRaw<{ id: string; sealed: string }[]>`
          SELECT id, ${c} AS sealed FROM ${t}
           WHERE ${c} IS NOT NULL AND split_part(${c}, '.', 2) <> ${primary} AND id > ${after}
           ORDER BY id LIMIT ${batch}`;
        if (rows.length === 0) break;
        after = rows.at(-1)!.id;
        const swaps: { id: string; old: string; sealed: string }[] = [];
        for (const row of rows) {
          const context = aad(owner, row.id, field);
          try {
            swaps.push({
              id: row.id,
              old: row.sealed,
              sealed: this.cipher.encrypt(this.cipher.decrypt(row.sealed, context), context),
            });
          } catch (err) {
            result.unreadable.push({ owner, id: row.id, field, reason: (err as Error).message });
          }
        }
        await options.beforeWrite?.();
        if (swaps.length === 0) continue;
        const written = await this.db.$queryRaw<{ id: string }[]>`
          UPDATE ${t} SET ${c} = s.sealed
            FROM unnest(${swaps.map((s) => s.id)}::text[], ${swaps.map((s) => s.old)}::text[],
                        ${swaps.map((s) => s.sealed)}::text[]) AS s(id, old, sealed)
           WHERE ${t}.id = s.id AND ${t}.${c} = s.old
          RETURNING ${t}.id`;
        result.resealed += written.length;
        result.changedMeanwhile += swaps.length - written.length;
      }
    }
    return result;
  }

  /**
   * At start: says in the log when stored tokens need a key TOKEN_ENCRYPTION_KEY no longer holds (an
   * error: removed too early, those tokens cannot be read until it is put back) or still sit under an
   * older key (what `npm run tokens -- reseal` is for). Never stops the start: a failed count is a warning.
   */
  async report(log: Logger): Promise<void> {
    let uses: KeyUse[];
    try {
      uses = await this.keyUse();
    } catch (err) {
      log.warn({ err }, "stored tokens not counted by encryption key");
      return;
    }
    const count = (list: KeyUse[]) => Object.fromEntries(list.map((u) => [u.keyId, u.tokens]));
    const missing = uses.filter((u) => !this.cipher.holds(u.keyId));
    const older = uses.filter((u) => u.keyId !== this.cipher.primaryId && this.cipher.holds(u.keyId));
    if (missing.length) {
      log.error(
        { keys: count(missing) },
        "stored tokens are under keys TOKEN_ENCRYPTION_KEY does not hold: they cannot be read until those keys are put back",
      );
    }
    if (older.length) {
      log.info(
        { keys: count(older) },
        "stored tokens under older keys: `npm run tokens -- reseal` moves them to the first",
      );
    }
  }
}
