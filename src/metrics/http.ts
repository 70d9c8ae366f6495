import type { Request, RequestHandler } from "express";
import { UNMATCHED_ROUTE, type AppMetrics } from "./metrics";

/**
 * The route pattern that answered (`/api/locations/:locationId/block-slots`), never the path
 * itself: a path carries ids, and every distinct value would be a series of its own.
 */
export function routeLabel(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  return typeof route?.path === "string" ? `${req.baseUrl}${route.path}` : UNMATCHED_ROUTE;
}

/** Counts and times every request when its response ends (aborted ones included, with the status set so far). */
export function countRequests(metrics: AppMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once("close", () => {
      const route = routeLabel(req);
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: req.method, route }, (performance.now() - started) / 1000);
    });
    next();
  };
}
