import path from "node:path";
import express, { Router, type Response } from "express";
import { z } from "zod";
import { blockSlotBody, eventId, isoWithOffset } from "../block-slots/schemas";
import { parseInput } from "../validation";
import { AppError } from "../errors";
import type { Services } from "../services";
import { decryptSsoPayload, SsoDecryptError } from "../sso/decrypt";
import { eventsIn, whoseTime } from "./calendar-view";
import { agencyRoutes } from "./agency-routes";
import { planRoutes } from "./plan-routes";
import { agencyPrincipal, PageSessions, pageUser } from "./session";

/** FullCalendar's browser build, from npm (no CDN: the page's CSP allows only its own origin). */
const FULLCALENDAR = path.dirname(require.resolve("fullcalendar/package.json"));
/** A month view shows six weeks; a longer window would only cost HighLevel calls. */
const MAX_WINDOW_DAYS = 45;
const calendarWindow = z
  .object({ start: isoWithOffset, end: isoWithOffset })
  .refine((w) => Date.parse(w.end) > Date.parse(w.start), { path: ["end"], message: "must be after start" })
  .refine((w) => Date.parse(w.end) - Date.parse(w.start) <= MAX_WINDOW_DAYS * 86_400_000, {
    path: ["end"],
    message: `must be at most ${MAX_WINDOW_DAYS} days after start`,
  });

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
    res.render("app-page", { highLevelAppUrl: config.HIGHLEVEL_APP_URL });
  });
  router.use(
    "/app/assets/fullcalendar",
    express.static(FULLCALENDAR, { maxAge: "1d", index: false, fallthrough: false }),
  );

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
        select: { id: true, name: true, status: true, timeZone: true },
      });
      res.json({ agency: { id: session.companyId, locations } });
      return;
    }
    const locationId = session.locationId;
    const location = await services.db.location.findUnique({
      where: { id: locationId },
      select: { id: true, name: true, status: true, lastError: true },
    });
    if (location?.status !== "active") {
      res.json({ location: location ?? { id: locationId, name: null, status: "not_installed", lastError: null } });
      return;
    }
    const [timeZone, whose] = await Promise.all([
      services.locations.timeZoneOf(locationId),
      whoseTime(services, locationId, session),
    ]);
    // HighLevel gives every location a zone; "UTC" only if it ever gives none, and the page names it.
    res.json({ location: { ...location, timeZone: timeZone ?? "UTC" }, ...whose });
  });

  /** Appointments and blocks of the sub-account in the window the calendar shows. */
  router.get("/app/api/calendar", async (req, res) => {
    const session = sessions.require(req);
    if (!session.locationId) throw new AppError("invalid_request", "Open this page inside a sub-account.");
    const { start, end } = parseInput(calendarWindow, req.query, "query");
    const whose = await whoseTime(services, session.locationId, session);
    const window = { startTime: Date.parse(start), endTime: Date.parse(end) };
    res.json({ events: await eventsIn(services, session.locationId, whose, window) });
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

  agencyRoutes(router, services, sessions, json);
  planRoutes(router, services, sessions);
  return router;
}
