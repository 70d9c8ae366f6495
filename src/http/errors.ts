import type { ErrorRequestHandler, Request, RequestHandler } from "express";
import type { Logger } from "pino";
import { HighLevelApiError, HighLevelError, HighLevelUnreachableError } from "../highlevel/errors";
import { ProblemError } from "./problem";

/** Connection-level failures (refused, reset, server shutting down, pool exhausted), not query errors. */
const DB_DOWN_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "P1001", // Prisma: can't reach the database server
  "P1002",
  "P1017", // Prisma: server closed the connection
  "P2024", // Prisma: timed out waiting for a pooled connection
]);
const DB_DOWN_MESSAGE =
  /Connection terminated|connect ECONNREFUSED|Can't reach database server|terminating connection|the database system is (starting up|shutting down)|timeout exceeded when trying to connect/i;

/** True when `err` (or what caused it) says PostgreSQL cannot be reached: a 503 to retry, not our bug. */
export function databaseUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (typeof e.code === "string" && DB_DOWN_CODES.has(e.code)) return true;
    if (typeof e.message === "string" && DB_DOWN_MESSAGE.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * The one place where errors become HTTP answers. Everything under /api and /webhooks answers
 * application/problem+json; pages answer HTML.
 */
export function toProblem(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  const e = err as { type?: string; status?: number; expose?: boolean; message?: string };
  // body-parser's errors: malformed JSON, body too large, unknown charset.
  if (e?.type === "entity.parse.failed")
    return new ProblemError(400, "invalid_request", "The request body is not valid JSON.");
  if (e?.type === "entity.too.large")
    return new ProblemError(413, "payload_too_large", "The request body is too large.");
  if (e?.type === "charset.unsupported" || e?.type === "encoding.unsupported")
    return new ProblemError(415, "unsupported_media_type", e.message ?? "Unsupported body encoding.");
  // Any other refusal the body parsers mark as the client's (a gzip header over plain bytes, …).
  if (e?.expose && typeof e.status === "number" && e.status >= 400 && e.status < 500)
    return new ProblemError(
      e.status,
      "invalid_request",
      `The request body could not be read: ${e.message ?? "malformed"}.`,
    );
  if (err instanceof HighLevelApiError) {
    if (err.status === 400 || err.status === 422) return new ProblemError(err.status, "invalid_request", err.message);
    if (err.status === 404) return new ProblemError(404, "not_found", `HighLevel: ${err.message}`);
    if (err.status === 429)
      return new ProblemError(429, "rate_limited", "HighLevel's rate limit was reached; retry later.", {
        retryAfterSeconds: err.retryAfterSeconds ?? 10,
      });
    return new ProblemError(502, "upstream_error", `HighLevel answered HTTP ${err.status}: ${err.message}`);
  }
  if (err instanceof HighLevelUnreachableError) return new ProblemError(502, "upstream_error", err.message);
  if (err instanceof HighLevelError) return new ProblemError(502, "upstream_error", err.message);
  if (databaseUnavailable(err)) {
    return new ProblemError(503, "service_unavailable", "The database is unavailable right now; retry shortly.", {
      retryAfterSeconds: 5,
    });
  }
  return new ProblemError(500, "internal_error", "Something went wrong on our side. It has been logged.");
}

/**
 * Problems that may pass on their own (HighLevel down or slow, a pause, our database): queued work
 * retries them; anything else is final for that piece of work.
 */
const TRANSIENT_CODES = new Set([
  "upstream_error",
  "internal_error",
  "location_inactive",
  "rate_limited",
  "service_unavailable",
]);
export const isTransient = (problem: ProblemError): boolean => TRANSIENT_CODES.has(problem.code);

export function sendProblem(res: Parameters<RequestHandler>[1], problem: ProblemError): void {
  if (problem.extra.retryAfterSeconds !== undefined)
    res.setHeader("Retry-After", String(problem.extra.retryAfterSeconds));
  res.status(problem.status).type("application/problem+json").send(JSON.stringify(problem));
}

const wantsProblemJson = (req: Request) =>
  req.path.startsWith("/api") ||
  req.path.startsWith("/webhooks") ||
  req.path.startsWith("/app/api") ||
  req.path === "/app/session";

export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    if (wantsProblemJson(req)) {
      sendProblem(res, new ProblemError(404, "not_found", `No route for ${req.method} ${req.path}.`));
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
    if (problem.status >= 500) log.error({ err, path: req.path }, "request failed");
    if (wantsProblemJson(req)) return sendProblem(res, problem);
    res.status(problem.status).render("error", { title: problem.title, message: problem.detail, hint: null });
  };
}
