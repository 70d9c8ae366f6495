import { UUID } from "../util/ids";
import crypto from "node:crypto";
import type { CookieOptions, Request, RequestHandler, Response } from "express";
import type { Principal } from "../auth/api-keys";
import { SessionSigner, sessionCookie } from "../auth/session-cookie";
import type { Services } from "../services";

export const CONSOLE_COOKIE = "hlbs_console";
const TTL_SECONDS = 8 * 3600;

/**
 * Who is signed in to the console. The cookie carries the key's principal, never the key; it is
 * checked against the key's current state on every page so a revoked key (or a bootstrap key taken
 * out of API_KEYS) ends its sessions at once instead of up to eight hours later.
 */
export class ConsoleSessions {
  private readonly signer: SessionSigner;
  private readonly bootstrapIds: Set<string>;
  readonly cookieOptions: CookieOptions;

  constructor(private readonly services: Services) {
    this.signer = new SessionSigner(services.sessionSecret, "console", TTL_SECONDS);
    this.cookieOptions = sessionCookie(services.config.APP_BASE_URL, this.signer.maxAgeMs, "/console");
    // The same id ApiKeyService gives a bootstrap key: a digest prefix, so the key itself is not needed here.
    this.bootstrapIds = new Set(
      services.config.API_KEYS.map(
        (key) => `bootstrap:${crypto.createHash("sha256").update(key).digest("hex").slice(0, 16)}`,
      ),
    );
  }

  start(res: Response, principal: Principal): void {
    res.cookie(CONSOLE_COOKIE, this.signer.sign({ principal }), this.cookieOptions);
  }

  end(res: Response): void {
    const { maxAge: _maxAge, ...options } = this.cookieOptions;
    res.clearCookie(CONSOLE_COOKIE, options);
  }

  async principal(req: Request): Promise<Principal | undefined> {
    const claims = this.signer.verify<{ principal?: Principal }>(req.cookies?.[CONSOLE_COOKIE]);
    const principal = claims?.principal;
    if (!principal || typeof principal.id !== "string") return undefined;
    return (await this.stillValid(principal)) ? principal : undefined;
  }

  private async stillValid(principal: Principal): Promise<boolean> {
    if (principal.id.startsWith("bootstrap:")) return this.bootstrapIds.has(principal.id);
    if (!UUID.test(principal.id)) return false;
    const row = await this.services.db.apiKey.findUnique({ where: { id: principal.id }, select: { revokedAt: true } });
    return !!row && !row.revokedAt;
  }
}

/** The signed-in principal, set by `requireSession`. */
export function consolePrincipal(res: Response): Principal {
  return res.locals.consolePrincipal as Principal;
}

/**
 * Pages behind the console session: without one, the login page (at the address asked for, so
 * signing in leads back to it). A cookie that no longer verifies is cleared.
 */
export function requireSession(sessions: ConsoleSessions, renderLogin: LoginRenderer): RequestHandler {
  return async (req, res, next) => {
    const principal = await sessions.principal(req);
    if (principal) {
      res.locals.consolePrincipal = principal;
      return next();
    }
    if (req.cookies?.[CONSOLE_COOKIE]) sessions.end(res);
    // Only a page can be returned to after signing in; a form post cannot be replayed as a GET.
    if (req.method === "GET") renderLogin(res, { status: 200, next: req.originalUrl });
    else renderLogin(res, { status: 401, error: "Your session has ended. Sign in again, then repeat what you did." });
  };
}

export type LoginRenderer = (res: Response, options: { status: number; next?: string; error?: string }) => void;
