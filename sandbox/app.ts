import express, { type NextFunction, type Request, type Response } from "express";
import { authenticate, rateLimit, validation } from "./auth";
import { calendarRoutes } from "./calendar-routes";
import { consentRoutes } from "./consent-page";
import { controlRoutes } from "./control-routes";
import { customPageRoutes } from "./custom-page";
import { refuse } from "./errors";
import { eventRoutes } from "./event-routes";
import { faultMiddleware } from "./faults";
import { locationRoutes } from "./location-routes";
import { oauthRoutes } from "./oauth-routes";
import { rejectBadHeaders, rejectBadRequest, rejectUnknownRoute, validateRequest } from "./openapi-gate";
import { getValidator } from "./openapi-validator";
import { markInvalid, recordBody, recorder } from "./recorder";
import type { SandboxState } from "./state";

/**
 * HighLevel's latency, spent after the work and before the answer: a client that gives up or
 * dies while waiting has still had its request carried out (the case at-most-once must survive).
 */
function latency(state: SandboxState) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const ms = state.latencyMs;
    if (ms > 0) {
      const end = res.end.bind(res) as (...args: unknown[]) => Response;
      res.end = ((...args: unknown[]) => {
        setTimeout(() => end(...args), ms);
        return res;
      }) as Response["end"];
    }
    next();
  };
}

/** An operation of the OpenAPI files the sandbox does not simulate. */
function notImplemented(_req: Request, res: Response): void {
  const id = validation(res).operation?.operationId ?? "this route";
  refuse(res, 501, { statusCode: 501, message: `The sandbox does not simulate ${id}` }, "not simulated");
}

/** Body parser failures (malformed JSON…) answered like NestJS does; anything else is a 500. */
function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type?.startsWith("entity.") || e.status === 400 || e.status === 413 || e.status === 415) {
    const status = e.status ?? 400;
    markInvalid(res, [`body could not be parsed: ${e.message ?? "invalid"}`]);
    res.status(status).json({ statusCode: status, message: e.message ?? "Bad Request", error: "Bad Request" });
    return;
  }
  res.status(500).json({ statusCode: 500, message: "Internal server error (sandbox)" });
}

/**
 * The sandbox's HTTP app. Order matters: every request is recorded and validated first (so
 * even refused ones show why), faults are applied next, then HighLevel's own order of
 * answers: unknown route 404, Version header 400, token 401, rate limit 429, parameters and
 * body 422, and finally the route's business rules.
 */
export function createSandboxApp(state: SandboxState): express.Express {
  const validator = getValidator(state.strictOpenApi);
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.use(customPageRoutes(state));
  app.use("/_sandbox", controlRoutes(state));

  app.use(recorder(state.requests));
  // The consent page of a 2,000-location agency posts one field per chosen sub-account.
  const form = express.urlencoded({ extended: false, parameterLimit: 20_000, limit: "2mb" });
  app.use(express.json(), form, recordBody);
  app.use(validateRequest(validator), faultMiddleware(state.faults));
  app.use(consentRoutes(state));
  app.use(latency(state));
  app.use(rejectUnknownRoute, rejectBadHeaders, authenticate(state), rateLimit(state), rejectBadRequest);
  app.use(oauthRoutes(state), calendarRoutes(state), eventRoutes(state), locationRoutes(state));
  app.use(notImplemented);
  app.use(errorHandler);
  return app;
}
