import { UUID } from "../util/ids";
import crypto from "node:crypto";
import type { CookieOptions, Request, RequestHandler, Response } from "express";
import type { Principal } from "../auth/api-keys";
import { SessionSigner, sessionCookie } from "../auth/session-cookie";
import type { Db } from "../db/client";
import { deleteBatch } from "../db/purge";
import { Prisma } from "../generated/prisma/client";

export const CONSOLE_COOKIE = "hlbs_console";
const TTL_SECONDS = 8 * 3600;

interface Claims extends Record<string, unknown> {
  /** The session's row in `console_sessions`. */
  sid?: string;
  principal?: Principal;
}

/**
 * Who is signed in to the console. The cookie carries the session's id and the key's principal,
 * never the key. Every page checks the session's row, so signing out (which deletes it) ends the
 * session at once wherever the cookie was copied, and checks the key's current state, so a revoked
 * key (or a bootstrap key taken out of API_KEYS) ends its sessions too.
 */
export class ConsoleSessions {
  private readonly signer: SessionSigner;
  private readonly bootstrapIds: Set<string>;
  readonly cookieOptions: CookieOptions;

  constructor(
    private readonly db: Db,
    options: { secret: Buffer; baseUrl: string; bootstrapKeys: readonly string[] },
  ) {
    this.signer = new SessionSigner(options.secret, "console", TTL_SECONDS);
    this.cookieOptions = sessionCookie(options.baseUrl, this.signer.maxAgeMs, "/console", { framed: false });
    // The same id ApiKeyService gives a bootstrap key: a digest prefix, so the key itself is not needed here.
    this.bootstrapIds = new Set(
      options.bootstrapKeys.map(
        (key) => `bootstrap:${crypto.createHash("sha256").update(key).digest("hex").slice(0, 16)}`,
      ),
    );
  }

  async start(res: Response, principal: Principal): Promise<void> {
    const row = await this.db.consoleSession.create({
      data: {
        principalId: principal.id,
        apiKeyId: UUID.test(principal.id) ? principal.id : null,
        expiresAt: new Date(Date.now() + this.signer.maxAgeMs),
      },
      select: { id: true },
    });
    res.cookie(CONSOLE_COOKIE, this.signer.sign({ sid: row.id, principal }), this.cookieOptions);
  }

  /** Signing out: the session ends on the server, not only in this browser. */
  async end(req: Request, res: Response): Promise<void> {
    const sid = this.claims(req)?.sid;
    if (sid) await this.db.consoleSession.deleteMany({ where: { id: sid } });
    this.clear(res);
  }

  clear(res: Response): void {
    const { maxAge: _maxAge, ...options } = this.cookieOptions;
    res.clearCookie(CONSOLE_COOKIE, options);
  }

  async principal(req: Request): Promise<Principal | undefined> {
    const claims = this.claims(req);
    const principal = claims?.principal;
    if (!claims?.sid || !principal || typeof principal.id !== "string") return undefined;
    const row = await this.db.consoleSession.findUnique({
      where: { id: claims.sid },
      select: { principalId: true, expiresAt: true, apiKey: { select: { revokedAt: true } } },
    });
    if (!row || row.principalId !== principal.id || row.expiresAt.getTime() <= Date.now()) return undefined;
    const keyValid = principal.id.startsWith("bootstrap:")
      ? this.bootstrapIds.has(principal.id)
      : !!row.apiKey && !row.apiKey.revokedAt;
    return keyValid ? principal : undefined;
  }

  /** Housekeeping: sessions past their expiry. */
  purge(limit: number): Promise<number> {
    return deleteBatch(this.db, "console_sessions", Prisma.sql`expires_at < now()`, limit);
  }

  private claims(req: Request): Claims | undefined {
    const claims = this.signer.verify<Claims>((req.cookies as Record<string, unknown> | undefined)?.[CONSOLE_COOKIE]);
    return claims && typeof claims.sid === "string" && UUID.test(claims.sid) ? claims : undefined;
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
    if (req.cookies?.[CONSOLE_COOKIE]) sessions.clear(res);
    // Only a page can be returned to after signing in; a form post cannot be replayed as a GET.
    if (req.method === "GET") renderLogin(res, { status: 200, next: req.originalUrl });
    else renderLogin(res, { status: 401, error: "Your session has ended. Sign in again, then repeat what you did." });
  };
}

export type LoginRenderer = (res: Response, options: { status: number; next?: string; error?: string }) => void;
