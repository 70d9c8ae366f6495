/**
 * The app's errors, apart from HTTP. Every error the app means to raise is an `AppError` with a
 * stable `code` (the machine word clients switch on) and `retryable`: whether the same work may
 * succeed later without anyone changing anything (HighLevel down, a rate limit, the database
 * restarting). Queued work retries exactly those; anything else fails once, with its reason.
 *
 * An error that is not an `AppError` is a programmer error (a bug): never retried, logged loudly.
 * `src/http/errors.ts` is the only place that turns codes into HTTP statuses.
 */

/** One bad input field: `path` as the caller wrote it (`items.3.endTime`, `line 4.endTime`). */
export interface FieldError {
  path: string;
  message: string;
}

export type ErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "location_not_installed"
  | "reauthorization_required"
  | "location_inactive"
  | "location_connecting"
  | "rate_limited"
  | "upstream_error"
  | "idempotency_conflict"
  | "not_a_block_slot"
  | "invalid_signature"
  | "stale_webhook"
  | "webhook_not_stored"
  | "unsupported_media_type"
  | "payload_too_large"
  | "too_many_attempts"
  | "plan_too_large"
  | "plan_deleted"
  | "service_unavailable"
  | "internal_error";

export interface AppErrorOptions {
  /** Default: false. True only when the same work may succeed later unchanged. */
  retryable?: boolean;
  /** How long to wait before retrying, when known. */
  retryAfterSeconds?: number;
  errors?: FieldError[];
  cause?: unknown;
}

export class AppError extends Error {
  readonly retryable: boolean;
  readonly retryAfterSeconds?: number;
  readonly errors?: FieldError[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.errors) this.errors = options.errors;
  }
}

export const invalidRequest = (message: string, errors?: FieldError[]) =>
  new AppError("invalid_request", message, { errors });

export const notFound = (message: string) => new AppError("not_found", message);

export const forbidden = (message: string) => new AppError("forbidden", message);

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

/**
 * PostgreSQL closing its connections because it is being shut down on purpose (57P01): noted, not
 * warned about. A terminal's Ctrl-C stops the demo's embedded database and the app at once, and the
 * database often speaks first; a database that then stays away is warned about at the next attempt.
 */
export function databaseShuttingDown(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return e?.code === "57P01" || (typeof e?.message === "string" && /due to administrator command/i.test(e.message));
}

/** True when `err` (or what caused it) says PostgreSQL cannot be reached: worth retrying, not our bug. */
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
 * The one retry rule of the app: an `AppError` says so itself; a database that cannot be reached
 * will be back; anything else is a bug, and repeating a bug only hides it.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof AppError) return err.retryable;
  return databaseUnavailable(err);
}

/** The error as an `AppError`: itself, the database being down, or an internal error (a bug). */
export function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (databaseUnavailable(err)) {
    return new AppError("service_unavailable", "The database is unavailable right now; retry shortly.", {
      retryable: true,
      retryAfterSeconds: 5,
      cause: err,
    });
  }
  return new AppError("internal_error", "Something went wrong on our side. It has been logged.", { cause: err });
}
