import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Db } from "../db/client";
import { NotifiedCache } from "../db/notified-cache";
import { AppError } from "../errors";
import {
  highLevelFailing,
  InvalidAccessTokenError,
  InvalidGrantError,
  LocationInactiveError,
} from "../highlevel/errors";
import type { HighLevelOAuth, TokenResponse } from "../highlevel/oauth";
import {
  companyNotInstalled,
  locationConnecting,
  locationInactive,
  locationNotInstalled,
  reauthorizationRequired,
  tokenUnavailable,
} from "./errors";
import { obtainTokens } from "./obtain";
import type { Owner, TokenRow, TokenStore } from "./store";

export interface TokenServiceOptions {
  /** A token closer than this to expiry is renewed before use (default 5 min). */
  refreshMarginMs?: number;
  /** Shown in 409 answers: where an admin reinstalls. */
  installUrl: string;
  /** Waits between attempts when HighLevel is down or answers 5xx (default 250 ms, 1 s). */
  retryDelaysMs?: number[];
  /** Must exceed the worst case of HighLevel calls made under the lock (3 × the client timeout). */
  transactionTimeoutMs?: number;
  /** How long an `inactive` installation is left alone before a call tries it again. */
  inactiveCooldownMs?: number;
  /**
   * How long a process reuses a token it read, without asking the database again (default 5 s; 0
   * turns it off). Bounded so an uninstall seen by another process takes effect here within it.
   */
  cacheMs?: number;
  /**
   * The same while change notifications arrive (`listenForChanges`): every change then drops the
   * entry at once, so the bound only limits what a missed notification could cost (default 10 min).
   */
  notifiedCacheMs?: number;
  /** Told of each renewal asked of HighLevel and how it ended (metrics). */
  onRenewal?: (owner: Owner, outcome: "ok" | "invalid_grant" | "inactive" | "error") => void;
}

type Outcome = { token: string } | { problem: AppError } | { companyTokenRejected: string } | { busy: true };

/** Tokens HighLevel issued in one renewal, and the row's tokens they replace. */
interface Issued {
  response: TokenResponse;
  seen: Pick<TokenRow, "accessTokenEnc" | "refreshTokenEnc">;
}

/**
 * The share of a renewal's transaction time that waiting for the row lock may use: the rest is
 * for HighLevel (a refresh, and one more if its answer was lost, each within the HTTP timeout).
 */
const LOCK_WAIT_SHARE = 1 / 3;
/** Renewals given up for want of time after waiting for the lock, before the caller hears of it. */
const MAX_BUSY_ROUNDS = 3;

/** Prisma's word that the interactive transaction is gone (timed out, or rolled back at shutdown). */
const transactionClosed = (err: unknown): boolean =>
  (err as { code?: unknown }).code === "P2028" ||
  /transaction (already closed|not found)|expired transaction/i.test(String((err as Error)?.message));

/**
 * The one way the app gets a HighLevel access token. Refresh tokens are single use, so each
 * renewal happens exactly once however many callers and processes need it at the same moment:
 * callers in one process share one promise, and processes serialise on the installation's row
 * lock (`SELECT … FOR UPDATE`). After taking the lock the row is read again, so a late caller
 * uses the token the winner wrote. The new tokens are written in the same transaction, before
 * the lock is released; a process that dies mid-renewal loses its connection, and with it the
 * lock, so nobody waits on a dead process.
 */
export class TokenService {
  private readonly inflight = new Map<string, Promise<string>>();
  /** Decrypted access tokens read recently, by "owner:id". */
  private readonly recent: NotifiedCache<string>;
  private readonly marginMs: number;
  private readonly retryDelaysMs: number[];
  private readonly txTimeoutMs: number;
  private readonly inactiveCooldownMs: number;

  constructor(
    private readonly db: Db,
    private readonly store: TokenStore,
    private readonly oauth: HighLevelOAuth,
    private readonly log: Logger,
    private readonly options: TokenServiceOptions,
  ) {
    this.marginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.retryDelaysMs = options.retryDelaysMs ?? [250, 1_000];
    this.txTimeoutMs = options.transactionTimeoutMs ?? 45_000;
    this.inactiveCooldownMs = options.inactiveCooldownMs ?? 60_000;
    const cacheMs = options.cacheMs ?? 5_000;
    this.recent = new NotifiedCache({
      ttlMs: cacheMs > 0 ? (options.notifiedCacheMs ?? 600_000) : 0,
      unnotifiedTtlMs: cacheMs,
      maxSize: 100_000,
    });
  }

  /** Trusts cached tokens longer while `notifications.listening` (src/db/change-listener.ts). */
  listenForChanges(notifications: { readonly listening: boolean }): void {
    this.recent.listenTo(notifications);
  }

  /** `token_changes`: "location:<id>" or "company:<id>" was updated or deleted. */
  changed(payload: string): void {
    const [owner, ...id] = payload.split(":");
    if (owner === "location" || owner === "company") this.forget(owner, id.join(":"));
  }

  lost(): void {
    this.forgetAll();
  }

  /**
   * Hands `fn` a valid access token for the location. If HighLevel answers 401 anyway (revoked,
   * or expired early), the token is renewed once and `fn` called once more.
   */
  async withAccessToken<T>(locationId: string, fn: (accessToken: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken("location", locationId);
    try {
      return await fn(token);
    } catch (err) {
      if (!(err instanceof InvalidAccessTokenError)) throw err;
      this.log.info({ locationId }, "HighLevel rejected an access token; renewing once");
      this.forget("location", locationId);
      return fn(await this.renew("location", locationId, { rejected: token }));
    }
  }

  /** `withAccessToken` for an agency's token: a 401 renews it once and calls `fn` once more. */
  async withCompanyToken<T>(companyId: string, fn: (accessToken: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken("company", companyId);
    try {
      return await fn(token);
    } catch (err) {
      if (!(err instanceof InvalidAccessTokenError)) throw err;
      this.log.info({ companyId }, "HighLevel rejected an agency access token; renewing once");
      this.forget("company", companyId);
      return fn(await this.renew("company", companyId, { rejected: token }));
    }
  }

  /** A valid access token, renewed first when it is missing or close to expiry. */
  async accessToken(owner: Owner, id: string): Promise<string> {
    const key = `${owner}:${id}`;
    const cached = this.recent.get(key);
    if (cached) return cached;
    const version = this.recent.version();
    const row = await this.store.row(owner, id);
    const problem = this.unusable(owner, id, row, { honourCooldown: true });
    if (problem) {
      this.recent.delete(key);
      throw problem;
    }
    if (row && this.isFresh(row, this.marginMs)) {
      const token = this.store.accessTokenOf(owner, id, row)!;
      this.recent.set(key, token, version, row.tokenExpiresAt!.getTime() - this.marginMs);
      return token;
    }
    return this.renew(owner, id);
  }

  /** Drops what this process remembers of a token (it was rejected, or the install is gone). */
  forget(owner: Owner, id: string): void {
    this.recent.delete(`${owner}:${id}`);
  }

  /** Drops every cached token (change notifications were interrupted). */
  forgetAll(): void {
    this.recent.clear();
  }

  /**
   * Renews unless another caller already did. `rejected`: the token HighLevel refused, so a
   * row still holding it is not fresh. `minValidityMs`: the background refresher's horizon.
   */
  renew(owner: Owner, id: string, opts: { rejected?: string; minValidityMs?: number } = {}): Promise<string> {
    const key = `${owner}:${id}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.renewWithRetries(owner, id, opts).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async renewWithRetries(
    owner: Owner,
    id: string,
    opts: { rejected?: string; minValidityMs?: number },
  ): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.renewOnce(owner, id, opts);
      } catch (err) {
        const delay = this.retryDelaysMs[attempt];
        if (!highLevelFailing(err)) throw err;
        if (delay === undefined) {
          this.log.warn({ owner, id, reason: (err as Error).message }, "token renewal failed; stored token kept");
          throw tokenUnavailable(`${owner} ${id}`, (err as Error).message);
        }
        await sleep(delay * (0.75 + Math.random() / 2));
      }
    }
  }

  private async renewOnce(
    owner: Owner,
    id: string,
    opts: { rejected?: string; minValidityMs?: number },
  ): Promise<string> {
    // A location minted from its agency needs the agency's token. Get it before taking the
    // location's lock: never hold one pool connection while waiting for another.
    const companyId = owner === "location" ? await this.agencyOf(id) : null;
    let companyToken = companyId ? await this.companyTokenIfAuthorized(companyId) : null;

    for (let round = 0, busy = 0; round < 2;) {
      const outcome = await this.lockedRenew(owner, id, opts, companyId, companyToken);
      if ("token" in outcome) return outcome.token;
      if ("problem" in outcome) throw outcome.problem;
      if ("busy" in outcome) {
        // Another process held the lock a long while, renewing: its token is likely there now.
        if (++busy >= MAX_BUSY_ROUNDS)
          throw tokenUnavailable(`${owner} ${id}`, "the row stayed locked by another renewal");
        continue;
      }
      round++;
      // HighLevel refused the agency token while minting: renew it once, then mint again.
      companyToken = await this.renew("company", companyId!, { rejected: outcome.companyTokenRejected });
    }
    throw tokenUnavailable(`location ${id}`, "the agency token was refused twice");
  }

  /** The agency's token, or null when the agency itself must be reinstalled (or is gone). */
  private async companyTokenIfAuthorized(companyId: string): Promise<string | null> {
    try {
      return await this.accessToken("company", companyId);
    } catch (err) {
      if (err instanceof AppError && (err.code === "not_found" || err.code === "reauthorization_required")) return null;
      throw err;
    }
  }

  private async agencyOf(locationId: string): Promise<string | null> {
    const row = await this.db.location.findUnique({
      where: { id: locationId },
      select: { source: true, companyId: true },
    });
    return row?.source === "agency" ? row.companyId : null;
  }

  private async lockedRenew(
    owner: Owner,
    id: string,
    opts: { rejected?: string; minValidityMs?: number },
    companyId: string | null,
    companyToken: string | null,
  ): Promise<Outcome> {
    // HighLevel's answer spends the stored refresh token: once tokens are issued they are kept,
    // whatever becomes of the transaction (its time limit can pass while HighLevel answers).
    let issued: Issued | undefined;
    let keeping: Promise<Outcome> | undefined;
    const keep = (cause: unknown) => (keeping ??= this.keepIssued(owner, id, issued!, cause));
    try {
      return await this.db.$transaction(
        async (tx) => {
          const began = Date.now();
          const row = await this.store.lockRow(tx, owner, id);
          const problem = this.unusable(owner, id, row, { honourCooldown: false });
          if (problem) return { problem };
          if (!row) return { problem: locationNotInstalled(id) };
          const current = this.store.accessTokenOf(owner, id, row);
          if (this.isFresh(row, opts.minValidityMs ?? this.marginMs) && current && current !== opts.rejected) {
            return { token: current };
          }
          // Too little of the transaction's time is left for HighLevel to answer within it.
          if (Date.now() - began > this.txTimeoutMs * LOCK_WAIT_SHARE) return { busy: true };

          let response: TokenResponse;
          try {
            response = await obtainTokens(this.oauth, this.log, {
              owner,
              id,
              refreshToken: this.store.refreshTokenOf(owner, id, row),
              companyId,
              companyToken,
            });
          } catch (err) {
            this.options.onRenewal?.(owner, renewalOutcome(err));
            if (err instanceof InvalidAccessTokenError && companyToken) return { companyTokenRejected: companyToken };
            if (err instanceof InvalidGrantError) {
              await this.store.markStatus(tx, owner, id, "reauthorization_required", err.message);
              this.log.warn({ owner, id }, "refresh token rejected: reinstall required");
              return { problem: reauthorizationRequired(`${owner} ${id}`, this.options.installUrl, err.message) };
            }
            if (err instanceof LocationInactiveError) {
              await this.store.markStatus(tx, owner, id, "inactive", err.message);
              return { problem: locationInactive(id) };
            }
            throw err; // transient: the transaction rolls back, the stored token stays as it was
          }
          issued = { response, seen: { accessTokenEnc: row.accessTokenEnc, refreshTokenEnc: row.refreshTokenEnc } };
          try {
            await this.store.saveRenewed(tx, owner, id, response);
          } catch (err) {
            // The transaction closed while HighLevel answered: its caller has already been told.
            if (transactionClosed(err)) return keep(err);
            throw err;
          }
          this.options.onRenewal?.(owner, "ok");
          this.log.info({ owner, id }, "token renewed");
          return { token: response.access_token };
        },
        { timeout: this.txTimeoutMs, maxWait: 10_000 },
      );
    } catch (err) {
      // The commit failed, or the transaction closed, after HighLevel issued tokens.
      if (issued) return keep(err);
      throw err;
    }
  }

  /**
   * Stores tokens HighLevel issued whose transaction did not commit, if the row still holds the
   * tokens they replace (a reinstall or an uninstall meanwhile wins). Without this the new refresh
   * token would be lost and the old one is spent: the location would need a reinstall.
   */
  private async keepIssued(owner: Owner, id: string, issued: Issued, cause: unknown): Promise<Outcome> {
    const { response, seen } = issued;
    const stored = await this.store.saveRenewedIfUnchanged(owner, id, response, seen).catch(() => false);
    if (stored) {
      this.options.onRenewal?.(owner, "ok");
      this.log.warn({ owner, id, err: cause }, "token renewed after its transaction closed: stored on its own");
      return { token: response.access_token };
    }
    // The commit may have gone through after all: then the row holds these very tokens.
    const row = await this.store.row(owner, id).catch(() => null);
    if (row && this.store.accessTokenOf(owner, id, row) === response.access_token)
      return { token: response.access_token };
    this.log.error(
      { owner, id, err: cause },
      "renewed tokens not stored: the installation changed meanwhile, or the database could not be reached",
    );
    throw cause;
  }

  private isFresh(row: TokenRow, validityMs: number): boolean {
    return (
      row.status === "active" &&
      !!row.accessTokenEnc &&
      !!row.tokenExpiresAt &&
      row.tokenExpiresAt.getTime() - Date.now() > validityMs
    );
  }

  /** Why no token can be had for this row without a reinstall (or a pause), if so. */
  private unusable(owner: Owner, id: string, row: TokenRow | null, opts: { honourCooldown: boolean }): AppError | null {
    if (!row || row.status === "uninstalled")
      return owner === "location" ? locationNotInstalled(id) : companyNotInstalled(id);
    // Its mint job gets the token; minting here too would mint it twice.
    if (row.status === "connecting") return locationConnecting(id);
    if (row.status === "reauthorization_required") {
      return reauthorizationRequired(`${owner} ${id}`, this.options.installUrl, row.lastError);
    }
    if (
      row.status === "inactive" &&
      opts.honourCooldown &&
      Date.now() - row.updatedAt.getTime() < this.inactiveCooldownMs
    ) {
      return locationInactive(id);
    }
    return null;
  }
}

function renewalOutcome(err: unknown): "invalid_grant" | "inactive" | "error" {
  if (err instanceof InvalidGrantError) return "invalid_grant";
  if (err instanceof LocationInactiveError) return "inactive";
  return "error";
}
