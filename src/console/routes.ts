import express, { Router, type Response } from "express";
import type { Principal } from "../auth/api-keys";
import { AppError } from "../errors";
import { auditPage, parseAuditQuery, WHO } from "./audit";
import { loadDashboard, parseDashboardQuery, RANGES } from "./dashboard";
import type { Services } from "../services";
import { consoleHeaders, safeNext, sameOrigin } from "./guards";
import { loadInstallations, parseInstallationsQuery, PAGE_SIZE, INSTALL_STATUSES } from "./installations";
import { failedItems, failedItemsCsv, FAILED_ITEMS_SHOWN, progress, recentJobs, RECENT_JOBS } from "./jobs";
import { placed } from "./placed";
import { planPage } from "./plans";
import { present, scopeText } from "./present";
import { allZones, describeZone, formatIn, hasZone, keepZone, operatorZone, validZone } from "./time-zone";
import { consolePrincipal, requireSession, type LoginRenderer } from "./session";
import { parseWebhookStatus, recentDeliveries, RECENT_DELIVERIES, WEBHOOK_STATUSES } from "./webhooks";

type Nav = "dashboard" | "installations" | "jobs" | "plans" | "webhooks" | "audit" | null;

/** Which plans or jobs a console page lists: they belong to where they act, not to a key (DECISIONS #53). */
function whose(principal: Principal, verb: "made" | "submitted"): string {
  if (principal.scope === "all") return `${verb} with any API key`;
  const where = principal.scope === "company" ? "this key's agency" : "this key's sub-account";
  return `wholly in ${where}, ${verb} with any key${verb === "made" ? " or on the custom page" : ""}`;
}

/** The operator console (`/console`): a dashboard, installations, bulk jobs, block plans, webhook deliveries and the audit trail, signed in with an API key. */
export function consoleRoutes(services: Services): Router {
  const { db, access, bulk, plans, config, consoleSessions: sessions, authThrottle } = services;
  const router = Router();
  const fromConsole = sameOrigin(config.APP_BASE_URL);

  const page = (res: Response, view: string, nav: Nav, locals: Record<string, unknown>, status = 200) => {
    const principal = consolePrincipal(res);
    const zone = operatorZone(res.req);
    res.status(status).render(`console/${view}`, {
      ...locals,
      principal,
      scopeText: scopeText(principal, res.locals.scopeName as string | undefined),
      nav,
      present,
      zoneText: describeZone(zone),
      zoneHref: present.href("/console/time-zone", { next: res.req.originalUrl }),
      when: (at: Date) => formatIn(at, zone),
    });
  };
  const message = (res: Response, status: number, title: string, text: string, hint: string | null = null) =>
    page(res, "message", null, { title, message: text, hint }, status);

  const renderLogin: LoginRenderer = (res, { status, next, error }) => {
    res.status(status).render("console/login", {
      title: "Sign in",
      principal: null,
      nav: null,
      next: safeNext(next),
      error: error ?? null,
    });
  };

  router.use("/console", consoleHeaders);

  router.post(
    "/console/login",
    fromConsole,
    express.urlencoded({ extended: false, limit: "10kb" }),
    async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const key = typeof body.key === "string" ? body.key.trim() : "";
      const next = safeNext(body.next);
      try {
        authThrottle.assertAllowed(req.ip);
        if (!key) return renderLogin(res, { status: 401, next, error: "Enter an API key to sign in." });
        const principal = await services.apiKeys.authenticate(key);
        if (principal) {
          await sessions.start(res, principal);
          // The browser's zone, sent by the form's script, unless this browser already chose one.
          if (validZone(body.tz) && !hasZone(req)) keepZone(res, body.tz, config.APP_BASE_URL);
          return res.redirect(303, next ?? "/console");
        }
        await authThrottle.failed(req.ip);
        renderLogin(res, { status: 401, next, error: "That API key is not valid, or it has been revoked." });
      } catch (err) {
        if (!(err instanceof AppError && err.code === "too_many_attempts")) throw err;
        res.setHeader("Retry-After", String(err.retryAfterSeconds));
        renderLogin(res, { status: 429, next, error: err.message });
      }
    },
  );

  router.post("/console/logout", fromConsole, async (req, res) => {
    await sessions.end(req, res);
    res.redirect(303, "/console");
  });

  router.use("/console", requireSession(sessions, renderLogin));
  // Pages say which agency or sub-account a scoped key reaches by its name, not its id.
  router.use("/console", async (_req, res, next) => {
    const principal = consolePrincipal(res);
    const name =
      principal.scope === "company"
        ? (await db.company.findUnique({ where: { id: principal.companyId! }, select: { name: true } }))?.name
        : principal.scope === "location"
          ? (await db.location.findUnique({ where: { id: principal.locationId! }, select: { name: true } }))?.name
          : undefined;
    res.locals.scopeName = name ?? undefined;
    next();
  });

  router.get("/console", async (req, res) => {
    const query = parseInstallationsQuery(req.query);
    const data = await loadInstallations(db, access, consolePrincipal(res), query);
    page(res, "installations", "installations", {
      title: "Installations",
      query,
      data,
      statuses: INSTALL_STATUSES,
      pageSize: PAGE_SIZE,
      installUrl: "/oauth/install",
      giveUpDays: config.REFRESH_GIVE_UP_DAYS,
    });
  });

  const zonePage = (res: Response, next: string, error?: string) => {
    const zone = operatorZone(res.req);
    page(res, "time-zone", null, { title: "Time zone", zone, zones: allZones(zone), next, error }, error ? 400 : 200);
  };

  router.get("/console/time-zone", (req, res) => zonePage(res, safeNext(req.query.next) ?? "/console"));

  router.post("/console/time-zone", fromConsole, express.urlencoded({ extended: false, limit: "10kb" }), (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next) ?? "/console";
    if (!validZone(body.zone)) return zonePage(res, next, "Pick a time zone from the list.");
    keepZone(res, body.zone, config.APP_BASE_URL);
    res.redirect(303, next);
  });

  router.get("/console/dashboard", async (req, res) => {
    const title = "Dashboard";
    // The charts add up every tenant's activity: like /metrics, for full-access keys only.
    if (consolePrincipal(res).scope !== "all")
      return page(res, "dashboard", "dashboard", { title, allowed: false }, 403);
    const query = parseDashboardQuery(req.query, operatorZone(req));
    page(res, "dashboard", "dashboard", {
      title,
      allowed: true,
      query,
      ranges: RANGES,
      panels: await loadDashboard(db, query),
      metricsOff: !services.metrics.enabled,
    });
  });

  router.get("/console/jobs", async (_req, res) => {
    const principal = consolePrincipal(res);
    const jobs = await recentJobs(db, principal);
    page(res, "jobs", "jobs", { title: "Bulk jobs", jobs, limit: RECENT_JOBS, whose: whose(principal, "submitted") });
  });

  router.get("/console/jobs/:id", async (req, res) => {
    const job = await bulk.view(consolePrincipal(res), req.params.id, "none").catch(notFoundAs(undefined));
    if (!job) return message(res, 404, "Job not found", "There is no bulk job with this id that your key may see.");
    const failed = job.counts.failed > 0 ? await placed(db, services.calendarNames, await failedItems(db, job.id)) : [];
    page(res, "job", "jobs", {
      title: "Bulk job",
      // A job under way is followed without a reload button; a finished one stays still.
      refreshSeconds: job.status === "queued" || job.status === "running" ? 5 : 0,
      job,
      progress: progress(job.total, job.counts),
      failed,
      failedShown: FAILED_ITEMS_SHOWN,
      apiPath: `/api/block-slots/bulk/${job.id}`,
    });
  });

  router.get("/console/jobs/:id/failed.csv", async (req, res) => {
    // The same check as the page: a job beyond the key's scope is not found.
    const job = await bulk.view(consolePrincipal(res), req.params.id, "none").catch(notFoundAs(undefined));
    if (!job) return message(res, 404, "Job not found", "There is no bulk job with this id that your key may see.");
    res.type("text/csv; charset=utf-8");
    res.attachment(`bulk-job-${job.id}-failed.csv`);
    for await (const chunk of failedItemsCsv(db, job.id, job.source === "csv")) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve).once("close", resolve));
      if (res.destroyed) return;
    }
    res.end();
  });

  router.post("/console/jobs/:id/cancel", fromConsole, async (req, res) => {
    const job = await bulk.cancel(consolePrincipal(res), String(req.params.id)).catch(notFoundAs(undefined));
    if (!job) return message(res, 404, "Job not found", "There is no bulk job with this id that your key may see.");
    res.redirect(303, `/console/jobs/${job.id}`);
  });

  router.get("/console/plans", async (_req, res) => {
    const principal = consolePrincipal(res);
    const list = await plans.list(principal);
    page(res, "plans", "plans", { title: "Block plans", plans: list, whose: whose(principal, "made") });
  });

  router.get("/console/plans/:id", async (req, res) => {
    const data = await planPage(db, services.calendarNames, plans, consolePrincipal(res), req.params.id).catch(
      notFoundAs(undefined),
    );
    if (!data) return message(res, 404, "Plan not found", "There is no block plan with this id that your key may see.");
    page(res, "plan", "plans", { title: data.plan.title, ...data, apiPath: `/api/block-plans/${data.plan.id}` });
  });

  router.get("/console/webhooks", async (req, res) => {
    const principal = consolePrincipal(res);
    const title = "Webhook deliveries";
    const webhookUrl = `${config.APP_BASE_URL}/webhooks/highlevel`;
    if (principal.scope !== "all") return page(res, "webhooks", "webhooks", { title, allowed: false, webhookUrl }, 403);
    const status = parseWebhookStatus(req.query.status);
    const data = await recentDeliveries(db, status);
    page(res, "webhooks", "webhooks", {
      title,
      allowed: true,
      status,
      statuses: WEBHOOK_STATUSES,
      data,
      limit: RECENT_DELIVERIES,
      webhookUrl,
    });
  });

  router.get("/console/audit", async (req, res) => {
    const query = parseAuditQuery(req.query);
    const data = await auditPage(db, services.calendarNames, services.auditTrail, access, consolePrincipal(res), query);
    page(res, "audit", "audit", { title: "Audit trail", query, data, who: WHO });
  });

  router.use("/console", (_req, res) => {
    message(res, 404, "Page not found", "There is no console page at this address.");
  });

  return router;
}

/** A 404 from the bulk service becomes `fallback`; anything else still reaches the error page. */
const notFoundAs =
  <T>(fallback: T) =>
  (err: unknown): T => {
    if (err instanceof AppError && err.code === "not_found") return fallback;
    throw err;
  };
