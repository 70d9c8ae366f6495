import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { AppError, asAppError, type ErrorCode } from "../errors";
import { HighLevelApiError } from "../highlevel/errors";
import { Problem } from "./problem";

/** The HTTP status of each code: the one table that maps the app's errors to HTTP. */
export const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  location_not_installed: 404,
  reauthorization_required: 409,
  location_inactive: 503,
  location_connecting: 503,
  rate_limited: 429,
  upstream_error: 502,
  idempotency_conflict: 409,
  not_a_block_slot: 409,
  invalid_signature: 401,
  stale_webhook: 401,
  // HighLevel resends a delivery only when it is answered 429 (docs/highlevel.md, "Webhooks").
  webhook_not_stored: 429,
  unsupported_media_type: 415,
  payload_too_large: 413,
  too_many_attempts: 429,
  plan_too_large: 400,
  plan_deleted: 409,
  service_unavailable: 503,
  internal_error: 500,
};

/** body-parser's refusals: malformed JSON, body too large, unknown charset, a bad encoding header. */
function bodyParserError(err: unknown): AppError | undefined {
  const e = err as { type?: unknown; status?: unknown; expose?: unknown; message?: unknown } | null;
  if (!e || typeof e !== "object") return undefined;
  const message = typeof e.message === "string" ? e.message : "malformed";
  if (e.type === "entity.parse.failed") return new AppError("invalid_request", "The request body is not valid JSON.");
  if (e.type === "entity.too.large") return new AppError("payload_too_large", "The request body is too large.");
  if (e.type === "charset.unsupported" || e.type === "encoding.unsupported")
    return new AppError("unsupported_media_type", message);
  if (e.expose === true && typeof e.status === "number" && e.status >= 400 && e.status < 500)
    return new AppError("invalid_request", `The request body could not be read: ${message}.`);
  return undefined;
}

/**
 * The one place where errors become HTTP answers. An `AppError` keeps its code; HighLevel's own
 * 400 and 422 keep their status; anything else is a 500 (or a 503 when the database is down).
 */
export function toProblem(err: unknown): Problem {
  const app = err instanceof AppError ? err : (bodyParserError(err) ?? asAppError(err));
  if (app instanceof HighLevelApiError) return highLevelProblem(app);
  return new Problem(STATUS[app.code], app.code, app.message, app.errors, app.retryAfterSeconds);
}

/** HighLevel's 400 and 422 pass through with their status; a 429 always tells when to come back. */
function highLevelProblem(err: HighLevelApiError): Problem {
  if (err.code === "invalid_request" && err.status === 422) return new Problem(422, err.code, err.message);
  if (err.code === "rate_limited") {
    return new Problem(
      429,
      err.code,
      "HighLevel's rate limit was reached; retry later.",
      undefined,
      err.retryAfterSeconds ?? 10,
    );
  }
  return new Problem(STATUS[err.code], err.code, err.message, undefined, err.retryAfterSeconds);
}

export function sendProblem(res: Response, problem: Problem): void {
  if (problem.retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(problem.retryAfterSeconds));
  res.status(problem.status).type("application/problem+json").send(JSON.stringify(problem));
}

const wantsProblemJson = (req: Request) =>
  req.path.startsWith("/api") ||
  req.path.startsWith("/webhooks") ||
  req.path.startsWith("/app/api") ||
  req.path === "/app/session" ||
  req.path === "/metrics";

export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    if (wantsProblemJson(req)) {
      sendProblem(res, toProblem(new AppError("not_found", `No route for ${req.method} ${req.path}.`)));
      return;
    }
    res
      .status(404)
      .render("error", { title: "Page not found", message: "There is no page at this address.", hint: null });
  };
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const problem = toProblem(err);
    // A bug is logged with its stack; HighLevel or the database failing, as a warning.
    if (problem.code === "internal_error") log.error({ err, path: req.path }, "request failed: a bug");
    else if (problem.status >= 500 || problem.code === "webhook_not_stored")
      log.warn({ err, path: req.path }, "request failed");
    if (wantsProblemJson(req)) return sendProblem(res, problem);
    if (problem.retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(problem.retryAfterSeconds));
    res.status(problem.status).render("error", { title: problem.title, message: problem.detail, hint: null });
  };
}
