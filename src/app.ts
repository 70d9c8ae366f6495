import path from "node:path";
import cookieParser from "cookie-parser";
import express from "express";
import helmet from "helmet";
import { Passport } from "passport";
import { consoleRoutes } from "./console/routes";
import { customPageRoutes } from "./custom-page/routes";
import { requireApiKey } from "./auth/middleware";
import { docsRoutes } from "./http/docs-routes";
import { errorHandler, notFoundHandler } from "./http/errors";
import { mount } from "./http/mount";
import { useRequestLog } from "./http/request-log";
import { installRoutes } from "./install/routes";
import { countRequests } from "./metrics/http";
import { metricsRoutes } from "./metrics/routes";
import { createInstallStrategy, STRATEGY_NAME } from "./install/strategy";
import { apiOperations } from "./operations";
import type { Services } from "./services";

const ROOT = path.resolve(__dirname, "..");

/** Builds the Express app from its parts; no listen, no globals, so tests use it as it is. */
export function createApp(services: Services): express.Express {
  const { db, log } = services;
  const app = express();
  app.set("views", path.join(ROOT, "views"));
  app.set("view engine", "ejs");
  // req.ip is who failed authentication is counted against: only the configured proxies may name it.
  app.set("trust proxy", services.config.TRUST_PROXY);
  app.disable("x-powered-by");

  useRequestLog(app, log);
  // METRICS=off: not even the per-request hook runs (what `npm run bench` compares against).
  if (services.metrics.enabled) app.use(countRequests(services.metrics));
  // Over plain http (the demo, a local run) upgrading requests to https would break every asset.
  const https = services.config.APP_BASE_URL.startsWith("https:");
  app.use(
    helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: https ? [] : null } }, hsts: https }),
  );
  // The API first: it carries the load, so it passes through no page middleware on its way.
  const operations = apiOperations(services);
  app.use(docsRoutes(services.config.APP_BASE_URL, operations));
  app.use("/api", requireApiKey(services.apiKeys, services.authThrottle));
  const api = express.Router();
  mount(api, operations, services);
  app.use(api);

  if (services.metrics.enabled) {
    app.use(
      metricsRoutes({
        metrics: services.metrics,
        apiKeys: services.apiKeys,
        authThrottle: services.authThrottle,
        metricsToken: services.config.METRICS_TOKEN,
      }),
    );
  }

  app.use("/static", express.static(path.join(ROOT, "public"), { maxAge: "1h" }));
  // Browsers ask for /favicon.ico whatever the page says; answer with the app's icon, not a 404.
  app.get("/favicon.ico", (_req, res) => res.redirect(301, "/static/favicon.svg"));
  app.get("/", async (_req, res) => {
    const [connectedCount, companyCount] = await Promise.all([
      db.location.count({ where: { status: "active" } }),
      db.company.count({ where: { status: "active" } }),
    ]);
    res.render("landing", { connectedCount, companyCount });
  });

  const passport = new Passport();
  passport.use(
    STRATEGY_NAME,
    createInstallStrategy(services.config, services.oauth, services.stateStore, services.installs),
  );
  app.use("/oauth", passport.initialize());
  app.use(
    installRoutes(passport as unknown as import("passport").PassportStatic, {
      progress: services.installProgress,
      throttle: services.authThrottle,
      redirectUri: services.config.redirectUri,
      highLevelAppUrl: services.config.HIGHLEVEL_APP_URL,
    }),
  );

  // Only the pages have sessions in cookies.
  app.use(["/app", "/console"], cookieParser());
  app.use(consoleRoutes(services));
  app.use(customPageRoutes(services));

  app.use(notFoundHandler());
  app.use(errorHandler(log));
  return app;
}
