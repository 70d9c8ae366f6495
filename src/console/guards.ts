import type { RequestHandler } from "express";

/**
 * Console forms are accepted only from the console itself. The session cookie is SameSite=Lax, so
 * another site's form arrives without it; this check stands in front of that, and covers the
 * sign-in form, which needs no cookie to be abused (signing someone in with the attacker's key).
 * The browser's own word on where a form came from decides: Sec-Fetch-Site where the browser sends
 * it, else Origin. Clients that send neither (curl, scripts) carry no browser cookies to abuse.
 */
export function sameOrigin(baseUrl: string): RequestHandler {
  const publicOrigin = new URL(baseUrl).origin;
  return (req, res, next) => {
    const site = req.headers["sec-fetch-site"];
    const origin = req.headers.origin;
    const ok =
      typeof site === "string"
        ? site === "same-origin" || site === "none"
        : !origin || origin === publicOrigin || origin === `${req.protocol}://${req.get("host")}`;
    if (ok) return next();
    res.status(403).render("console/message", {
      title: "Form refused",
      message: "This form was sent from another site, so it was not accepted.",
      hint: "Open the console from its own address and try again.",
      principal: null,
      nav: null,
    });
  };
}

/** Where to go after signing in: a console page only, never another site (`//evil.example`). */
export function safeNext(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length > 500) return undefined;
  return /^\/console(?:[/?][^\\\s]*)?$/.test(value) && !value.startsWith("/console//") ? value : undefined;
}

/**
 * Signed-in pages hold tenant data: no browser or proxy keeps a copy. Referrer-Policy same-origin
 * (not helmet's no-referrer) so that browsers without Sec-Fetch-Site send a real Origin with the
 * console's forms instead of "null".
 */
export const consoleHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Referrer-Policy", "same-origin");
  next();
};
