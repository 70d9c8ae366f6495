import express, { Router, type Response } from "express";
import { z } from "zod";
import { blockSlotBody, eventId } from "../block-slots/schemas";
import { parseInput } from "../validation";
import { AppError } from "../errors";
import { blockingRuleBody } from "../rules/schemas";
import type { Services } from "../services";
import { decryptSsoPayload, SsoDecryptError } from "../sso/decrypt";
import { agencyPrincipal, PageSessions, pageUser } from "./session";

const DAYS_AHEAD = 30;

/**
 * HighLevel shows `/app` in an iframe: only its app origins and the white-label origins the operator
 * names (HIGHLEVEL_FRAME_ORIGINS) may frame it, so no other site can show the page and ask it to sign in.
 */
function allowFraming(res: Response, frameAncestors: string): void {
  res.removeHeader("X-Frame-Options");
  res.setHeader(
    "Content-Security-Policy",
    [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "base-uri 'self'",
      "form-action 'self'",
      `frame-ancestors ${frameAncestors}`,
      "object-src 'none'",
    ].join("; "),
  );
}

/** The custom page (`/app`) and the JSON it talks to (`/app/session`, `/app/api/*`). */
export function customPageRoutes(services: Services): Router {
  const router = Router();
  const { config, authThrottle } = services;
  const frameAncestors = ["'self'", ...config.HIGHLEVEL_FRAME_ORIGINS].join(" ");
  const sessions = new PageSessions(services.sessionSecret, config.APP_BASE_URL);
  const json = express.json({ limit: "20kb" });
  const notConfigured = () =>
    new AppError("service_unavailable", "This page is not set up: HIGHLEVEL_SSO_KEY is not configured.");

  router.get("/app", (_req, res) => {
    allowFraming(res, frameAncestors);
    if (!config.HIGHLEVEL_SSO_KEY) {
      res.status(503).render("error", {
        title: "Not set up yet",
        message: "This page needs the app's Shared Secret from HighLevel to know who you are.",
        hint: "The operator sets HIGHLEVEL_SSO_KEY (Marketplace → your app → Advanced settings → Shared Secret) and restarts the app.",
      });
      return;
    }
    res.render("app-page");
  });

  /** A payload that does not open a session counts against the caller's address. */
  const refuse = async (req: express.Request, reason: string, message: string): Promise<never> => {
    req.log.warn({ reason }, "custom page: SSO payload refused");
    await authThrottle.failed(req.ip);
    throw new AppError("unauthorized", message);
  };

  router.post("/app/session", json, async (req, res) => {
    if (!config.HIGHLEVEL_SSO_KEY) throw notConfigured();
    authThrottle.assertAllowed(req.ip);
    const { payload } = parseInput(z.object({ payload: z.string().min(1).max(20_000) }), req.body, "body");
    let user;
    try {
      user = decryptSsoPayload(payload, config.HIGHLEVEL_SSO_KEY);
    } catch (err) {
      if (!(err instanceof SsoDecryptError)) throw err;
      return refuse(
        req,
        err.message,
        "HighLevel's sign-in for this page could not be verified. Open the page again from inside HighLevel; if it keeps happening, the app's Shared Secret may be set wrong.",
      );
    }
    if (!(await services.ssoReplays.firstUse(payload))) {
      return refuse(
        req,
        "SSO payload already used",
        "This sign-in from HighLevel was already used. Reload the page inside HighLevel to sign in again.",
      );
    }
    const session = sessions.open(res, user);
    res.json({
      user: {
        userName: user.userName ?? null,
        email: user.email ?? null,
        role: user.role ?? null,
        type: user.type ?? null,
      },
      companyId: session.companyId,
      locationId: session.locationId ?? null,
      agencyAdmin: agencyPrincipal(session) !== undefined,
      csrf: session.csrf,
    });
  });

  /** The sub-account the page is for, with its connection status. */
  router.get("/app/api/location", async (req, res) => {
    const session = sessions.require(req);
    if (!session.locationId) {
      const locations = await services.db.location.findMany({
        where: { companyId: session.companyId },
        orderBy: { name: "asc" },
        select: { id: true, name: true, status: true },
      });
      res.json({ agency: { id: session.companyId, locations } });
      return;
    }
    const location = await services.db.location.findUnique({
      where: { id: session.locationId },
      select: { id: true, name: true, status: true, lastError: true },
    });
    res.json({
      location: location ?? { id: session.locationId, name: null, status: "not_installed", lastError: null },
    });
  });

  /** Upcoming blocks on each of the location's calendars (the next 30 days). */
  router.get("/app/api/block-slots", async (req, res) => {
    const session = sessions.require(req);
    if (!session.locationId) throw new AppError("invalid_request", "Open this page inside a sub-account.");
    const calendars = await services.blockSlots.calendars(session.locationId);
    const now = new Date();
    const window = {
      startTime: now.toISOString(),
      endTime: new Date(now.getTime() + DAYS_AHEAD * 86_400_000).toISOString(),
    };
    const perCalendar = await Promise.all(
      calendars.map(async (c) => ({
        calendar: c,
        blockSlots: (await services.blockSlots.list(session.locationId!, { calendarId: c.id, ...window })).blockSlots,
      })),
    );
    res.json({ days: DAYS_AHEAD, calendars: perCalendar });
  });

  router.post("/app/api/block-slots", json, async (req, res) => {
    const session = sessions.require(req, { write: true });
    if (!session.locationId) throw new AppError("invalid_request", "Open this page inside a sub-account.");
    const body = parseInput(blockSlotBody, req.body, "body");
    res.status(201).json(
      await services.blockSlots.create(session.locationId, body, {
        origin: { origin: "page" },
        actor: pageUser(session),
      }),
    );
  });

  router.delete("/app/api/block-slots/:eventId", async (req, res) => {
    const session = sessions.require(req, { write: true });
    if (!session.locationId) throw new AppError("invalid_request", "Open this page inside a sub-account.");
    await services.blockSlots.remove(
      session.locationId,
      parseInput(eventId, req.params.eventId, "path"),
      pageUser(session),
    );
    res.status(204).end();
  });

  /** Agency admins: the blocking rules of their locations. */
  const admin = (req: express.Request, write = false) => {
    const session = sessions.require(req, { write });
    const principal = agencyPrincipal(session);
    if (!principal) throw new AppError("forbidden", "Only agency admins can see and change blocking rules.");
    return { principal, actor: pageUser(session) };
  };
  router.get("/app/api/rules", async (req, res) => {
    res.json({ rules: await services.rules.list(admin(req).principal) });
  });
  router.post("/app/api/rules", json, async (req, res) => {
    const { principal, actor } = admin(req, true);
    const body = parseInput(blockingRuleBody, req.body, "body");
    res.status(201).json(await services.rules.create(principal, body, actor));
  });
  router.delete("/app/api/rules/:id", async (req, res) => {
    const { principal, actor } = admin(req, true);
    await services.rules.remove(principal, req.params.id, actor);
    res.status(204).end();
  });

  return router;
}
