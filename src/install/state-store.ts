import crypto from "node:crypto";
import type { Request } from "express";
import type { Db } from "../db/client";
import { deleteBatch } from "../db/purge";
import { Prisma } from "../generated/prisma/client";

/** How long an install may sit on HighLevel's consent page. */
const STATE_TTL_MS = 30 * 60 * 1000;

type StoreCallback = (err: Error | null, state?: string) => void;
type VerifyCallback = (err: Error | null, ok: boolean, info?: { message: string }) => void;

/**
 * passport-oauth2 state store in PostgreSQL, so a callback can land on any app process.
 * A state is single use. A callback without any state is accepted: installs started from the
 * marketplace listing never saw our /oauth/install. A state we did not issue (or that expired,
 * or was used) is refused — that is what a forged or replayed callback looks like.
 */
export class DbStateStore {
  constructor(private readonly db: Db) {}

  // Arity 3 matters: passport-oauth2 picks the call signature by `store.length`.
  store(_req: Request, _meta: unknown, callback: StoreCallback): void {
    const state = crypto.randomBytes(24).toString("base64url");
    this.db.oAuthState.create({ data: { state, expiresAt: new Date(Date.now() + STATE_TTL_MS) } }).then(
      () => callback(null, state),
      (err: Error) => callback(err),
    );
  }

  verify(_req: Request, state: string | undefined, callback: VerifyCallback): void {
    if (state === undefined || state === "") {
      callback(null, true);
      return;
    }
    this.db.oAuthState.deleteMany({ where: { state: String(state), expiresAt: { gt: new Date() } } }).then(
      ({ count }) =>
        count === 1
          ? callback(null, true)
          : callback(null, false, {
              message: "This install link was not issued by this app, has expired, or was already used.",
            }),
      (err: Error) => callback(err, false),
    );
  }

  /** Housekeeping: expired states are of no use to anyone (each `GET /oauth/install` made one). */
  purge(limit: number): Promise<number> {
    return deleteBatch(this.db, "oauth_states", Prisma.sql`expires_at < ${new Date()}`, limit);
  }
}
