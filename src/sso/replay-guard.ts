import type { Db } from "../db/client";
import { ssoPayloadDigest } from "./decrypt";
import { deleteBatch } from "../db/purge";
import { Prisma } from "../generated/prisma/client";

/**
 * How long a used payload is remembered: far longer than a page session (one hour), since a
 * payload carries no time of its own and would otherwise open sessions again once forgotten.
 */
export const SSO_PAYLOAD_MEMORY_MS = 7 * 86_400_000;

/**
 * An SSO payload opens a session once. HighLevel encrypts the user afresh for every request of the
 * page (docs/highlevel.md, "Custom pages"), so a payload seen before is a copy being replayed. The
 * digest is over the decoded bytes, so re-encoding the same payload differently is the same payload.
 */
export class SsoReplayGuard {
  constructor(private readonly db: Db) {}

  /** True the first time this payload is presented (and from then on remembered); false for a replay. */
  async firstUse(payload: string): Promise<boolean> {
    const { count } = await this.db.usedSsoPayload.createMany({
      data: [{ digest: ssoPayloadDigest(payload) }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  /** Housekeeping: payloads used longer ago than `SSO_PAYLOAD_MEMORY_MS`. */
  purge(limit: number): Promise<number> {
    const before = new Date(Date.now() - SSO_PAYLOAD_MEMORY_MS);
    return deleteBatch(this.db, "used_sso_payloads", Prisma.sql`used_at < ${before}`, limit);
  }
}
