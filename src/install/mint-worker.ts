import crypto from "node:crypto";
import type { Logger } from "pino";
import type { Db } from "../db/client";
import { asAppError } from "../errors";
import { LocationInactiveError } from "../highlevel/errors";
import type { HighLevelOAuth, TokenResponse } from "../highlevel/oauth";
import { QUEUES, type JobQueue, type WorkOptions } from "../jobs/queue";
import { rateLimitWait } from "../jobs/rate-limited";
import type { TokenService } from "../tokens/service";
import type { TokenStore } from "../tokens/store";
import type { InstallRecords, MintRef } from "./records";

/**
 * Transient failures (HighLevel down, the database restarting) before a location fails for good.
 * The queue's waits double from a second (src/jobs/queue.ts): ten tries span some eight minutes,
 * so a HighLevel outage of a few minutes during an install does not leave sub-accounts failed.
 */
const MAX_FAILURES = 10;

/** Another worker holds the location's lease: try again once it is done (or its lease runs out). */
class HeldElsewhere extends Error {}

export type MintOutcome = "connected" | "failed" | "skipped" | "rescheduled";

interface MintState {
  status: string;
  company_id: string;
  held: boolean;
}

/**
 * Connects each location of an agency install: mints its token from the agency's token, at most
 * once, modelled on the bulk worker (src/bulk/worker.ts):
 * - only a location still `connecting` is minted: one already active, failed or uninstalled is left;
 * - the claim is a lease taken once the pacer lets the mint go, just before it is sent, so a wait
 *   for the agency's rate limit never eats into it; a second job for the same location backs off;
 * - a rate-limited mint comes back later without counting as a failure; HighLevel's refusal fails
 *   that location alone, with HighLevel's reason; other failures are retried a few times.
 * HighLevel has no idempotency for mints: a process killed after sending one and before storing the
 * answer loses that token, and the location is minted again (the new token replaces the old).
 */
export class LocationMintWorker {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly store: TokenStore,
    private readonly oauth: HighLevelOAuth,
    private readonly records: InstallRecords,
    private readonly queue: JobQueue,
    private readonly log: Logger,
    /** How long a claim holds: longer than one honest mint (HighLevel's time-out and the writes after it). */
    private readonly leaseSeconds: number,
  ) {}

  start(options: WorkOptions): Promise<void> {
    return this.queue.workEach<MintRef>(QUEUES.locationMint, options, (mint) => this.process(mint), {
      log: this.log,
      message: "location mint will be retried",
      fields: ({ locationId }) => ({ locationId }),
    });
  }

  /** Throws to have the queue try again later. */
  async process({ locationId }: MintRef): Promise<MintOutcome> {
    const [state] = await this.db.$queryRaw<MintState[]>`
      SELECT l.status::text AS status, m.company_id, coalesce(m.lease_until > now(), false) AS held
        FROM locations l JOIN location_mints m ON m.location_id = l.id
       WHERE l.id = ${locationId}`;
    if (!state || state.status !== "connecting") return "skipped";
    if (state.held) throw new HeldElsewhere(`location ${locationId}: another worker is minting its token`);
    const companyId = state.company_id;
    const claim = crypto.randomUUID();
    try {
      const minted = await this.tokens.withCompanyToken(companyId, (token) =>
        this.oauth.mintLocationToken(token, companyId, locationId, { beforeSend: () => this.take(locationId, claim) }),
      );
      return await this.connected(locationId, companyId, minted);
    } catch (err) {
      if (err instanceof HeldElsewhere) throw err;
      return this.setback(locationId, claim, err);
    }
  }

  /** The lease, taken just before the mint is sent; lost to another worker, nothing is sent. */
  private async take(locationId: string, claim: string): Promise<void> {
    const [row] = await this.db.$queryRaw<{ interrupted: boolean }[]>`
      WITH before AS (
        SELECT m.location_id, m.lease_until, m.claim
          FROM location_mints m JOIN locations l ON l.id = m.location_id
         WHERE m.location_id = ${locationId} AND l.status = 'connecting'
           AND (m.lease_until IS NULL OR m.lease_until < now() OR m.claim = ${claim})
        FOR UPDATE OF m
      )
      UPDATE location_mints m
         SET lease_until = now() + make_interval(secs => ${this.leaseSeconds}), claim = ${claim}, updated_at = now()
        FROM before
       WHERE m.location_id = before.location_id
      RETURNING before.lease_until IS NOT NULL AND before.claim IS DISTINCT FROM ${claim} AS interrupted`;
    if (!row) throw new HeldElsewhere(`location ${locationId}: claimed by another worker, or no longer connecting`);
    if (row.interrupted) {
      this.log.warn({ locationId }, "an earlier mint for this location was cut off; minting again");
    }
  }

  private async connected(locationId: string, companyId: string, minted: TokenResponse): Promise<MintOutcome> {
    const stored = await this.db.$transaction(async (tx) => {
      const { count } = await tx.location.updateMany({
        where: { id: locationId, status: "connecting" },
        data: {
          ...this.store.encryptedFields("location", locationId, minted),
          userId: minted.userId ?? null,
          status: "active",
          lastError: null,
        },
      });
      await tx.locationMint.update({ where: { locationId }, data: { leaseUntil: null, claim: null, failures: 0 } });
      if (count > 0) await this.records.readDetails(tx, [locationId]);
      return count > 0;
    });
    if (!stored) {
      // Uninstalled (or reinstalled another way) while the mint was out: the token is not kept.
      this.log.info({ locationId, companyId }, "location left connecting during its mint; token dropped");
      return "skipped";
    }
    this.log.info({ locationId, companyId }, "location connected with its agency's token");
    return "connected";
  }

  /** What a failed mint means for the location: later, again soon, or failed with the reason. */
  private async setback(locationId: string, claim: string, err: unknown): Promise<MintOutcome> {
    const release = { leaseUntil: null, claim: null };
    const mine = { locationId, OR: [{ claim }, { claim: null }] };
    const wait = rateLimitWait(err, "the agency");
    if (wait) {
      // Not a failure (src/jobs/rate-limited.ts): the agency's budget is spent for now. Queued again
      // before the lease goes, so a crash in between leaves a job (this one, retried) rather than none.
      await this.queue.send(QUEUES.locationMint, { locationId }, { startAfter: wait.resumesAt });
      await this.db.locationMint.updateMany({ where: mine, data: release });
      return "rescheduled";
    }
    const error = asAppError(err);
    const { failures } = await this.db.locationMint.update({
      where: { locationId },
      data: { failures: { increment: 1 } },
      select: { failures: true },
    });
    // "Location is not active" on a mint means a suspended sub-account: minutes will not change it.
    const refused = !error.retryable || err instanceof LocationInactiveError;
    if (!refused && failures < MAX_FAILURES) {
      await this.db.locationMint.updateMany({ where: mine, data: release });
      throw err;
    }
    if (error.code === "internal_error") this.log.error({ err, locationId }, "location mint failed: a bug");
    const reason = `Could not get a location token: ${error.message}`;
    this.log.warn({ locationId, reason }, "location could not be connected");
    await this.db.$transaction(async (tx) => {
      const { count } = await tx.location.updateMany({
        where: { id: locationId, status: "connecting" },
        data: {
          status: "failed",
          lastError: reason,
          accessTokenEnc: null,
          refreshTokenEnc: null,
          tokenExpiresAt: null,
        },
      });
      await tx.locationMint.updateMany({ where: mine, data: release });
      // Named on the install page even so (read with the agency's token).
      if (count > 0) await this.records.readDetails(tx, [locationId]);
    });
    return "failed";
  }
}
