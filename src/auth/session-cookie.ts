import crypto from "node:crypto";
import type { CookieOptions } from "express";

/**
 * Short signed sessions in a cookie: the claims, an expiry, and an HMAC-SHA256 over both. The key is derived per purpose from a server secret, so a console
 * session can never pass for a custom-page one.
 */
export class SessionSigner {
  private readonly key: Buffer;

  constructor(
    secret: Buffer,
    purpose: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = Buffer.from(crypto.hkdfSync("sha256", secret, Buffer.alloc(0), `session:${purpose}`, 32));
  }

  sign(claims: Record<string, unknown>): string {
    const body = Buffer.from(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + this.ttlSeconds }));
    return `${body.toString("base64url")}.${this.mac(body).toString("base64url")}`;
  }

  /** The claims of a valid, unexpired token; undefined otherwise. */
  verify<T extends Record<string, unknown>>(token: unknown): (T & { exp: number }) | undefined {
    if (typeof token !== "string") return undefined;
    const [body, mac] = token.split(".");
    if (!body || !mac) return undefined;
    const data = Buffer.from(body, "base64url");
    const given = Buffer.from(mac, "base64url");
    const expected = this.mac(data);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(data.toString("utf8")) as T & { exp: number };
      return typeof claims.exp === "number" && claims.exp > Date.now() / 1000 ? claims : undefined;
    } catch {
      return undefined;
    }
  }

  get maxAgeMs(): number {
    return this.ttlSeconds * 1000;
  }

  private mac(data: Buffer): Buffer {
    return crypto.createHmac("sha256", this.key).update(data).digest();
  }
}

/**
 * Session cookie settings. `framed`: the custom page lives inside HighLevel's iframe, where over
 * https only SameSite=None; Secure; Partitioned is sent (over plain http — the demo, tests — that
 * would be refused, so Lax). Pages never framed (the console) are SameSite=Lax: another site's
 * forms and requests arrive without the cookie.
 */
export function sessionCookie(
  baseUrl: string,
  maxAgeMs: number,
  path: string,
  options: { framed: boolean },
): CookieOptions {
  const https = baseUrl.startsWith("https:");
  const crossSite = options.framed && https;
  return {
    httpOnly: true,
    path,
    maxAge: maxAgeMs,
    secure: https,
    sameSite: crossSite ? "none" : "lax",
    ...(crossSite ? { partitioned: true } : {}),
  };
}
