import crypto from "node:crypto";
import type { Request, Response } from "express";
import type { Actor } from "../audit/log";
import type { Principal } from "../auth/api-keys";
import { AppError } from "../errors";
import { SessionSigner, sessionCookie } from "../auth/session-cookie";
import type { SsoUser } from "../sso/decrypt";

export const COOKIE = "hlbs_app";
/** Short on purpose: the page asks HighLevel again on every load anyway. */
const TTL_SECONDS = 3600;

export interface PageSession extends Record<string, unknown> {
  userId: string;
  companyId: string;
  /** Absent when the page was opened at agency level. */
  locationId?: string;
  role?: string;
  type?: string;
  userName?: string;
  /** Sent back by the page in X-CSRF-Token on every write. */
  csrf: string;
}

/** The custom page's session: who HighLevel said the user is, for one location or the agency. */
export class PageSessions {
  private readonly signer: SessionSigner;

  constructor(
    secret: Buffer,
    private readonly baseUrl: string,
  ) {
    this.signer = new SessionSigner(secret, "custom-page", TTL_SECONDS);
  }

  open(res: Response, user: SsoUser): PageSession {
    const session: PageSession = {
      userId: user.userId,
      companyId: user.companyId,
      ...(user.activeLocation ? { locationId: user.activeLocation } : {}),
      ...(user.role ? { role: user.role } : {}),
      ...(user.type ? { type: user.type } : {}),
      ...(user.userName ? { userName: user.userName } : {}),
      csrf: crypto.randomBytes(18).toString("base64url"),
    };
    res.cookie(
      COOKIE,
      this.signer.sign(session),
      sessionCookie(this.baseUrl, this.signer.maxAgeMs, "/app", { framed: true }),
    );
    return session;
  }

  /**
   * The session of a page request. A `locationId` the page names must be the session's: two tabs of
   * different sub-accounts share one cookie, and a stale tab must not act on the other's location.
   */
  require(req: Request, options: { write?: boolean } = {}): PageSession {
    const session = this.signer.verify<PageSession>((req.cookies as Record<string, unknown> | undefined)?.[COOKIE]);
    if (!session) {
      throw new AppError("unauthorized", "Your HighLevel session here has ended. Reload the page to sign in again.");
    }
    const named = req.query.locationId;
    if (named !== undefined && named !== (session.locationId ?? "")) {
      throw new AppError(
        "forbidden",
        `This page is signed in for ${session.locationId ? `sub-account ${session.locationId}` : "the agency"}, not ${String(named)}. Reload the page.`,
      );
    }
    if (options.write && req.headers["x-csrf-token"] !== session.csrf) {
      throw new AppError("forbidden", "This request did not come from the page. Reload the page and try again.");
    }
    return session;
  }
}

/** The HighLevel user behind a page session, for the audit trail. */
export const pageUser = (session: PageSession): Actor => ({
  kind: "user",
  id: session.userId,
  name: session.userName ?? null,
});

/** Agency admins edit blocking rules for their company's locations, as a company-scoped principal. */
export function agencyPrincipal(session: PageSession): Principal | undefined {
  if (session.type !== "agency" || session.role !== "admin") return undefined;
  return {
    id: `sso:${session.companyId}`,
    name: session.userName ?? "agency admin",
    scope: "company",
    companyId: session.companyId,
  };
}
