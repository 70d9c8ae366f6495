import { AppError, type ErrorCode } from "../errors";

/**
 * Typed errors for everything HighLevel can answer. They carry HighLevel's message but never
 * a request's headers or body, so they are safe to log and to show. Each is an `AppError`, so
 * it says itself whether trying again later can help.
 */
export class HighLevelError extends AppError {
  constructor(
    message: string,
    /** HTTP status from HighLevel, or undefined when no answer came. */
    readonly status?: number,
    options: { code?: ErrorCode; retryable?: boolean; retryAfterSeconds?: number } = {},
  ) {
    super(options.code ?? "upstream_error", message, options);
  }
}

/** What an error status from HighLevel means for the app (docs/highlevel.md, "Errors"). */
function meaning(status: number): { code: ErrorCode; retryable: boolean } {
  if (status === 400 || status === 422) return { code: "invalid_request", retryable: false };
  if (status === 404) return { code: "not_found", retryable: false };
  if (status === 429) return { code: "rate_limited", retryable: true };
  return { code: "upstream_error", retryable: status >= 500 };
}

/**
 * The message a caller sees: HighLevel's own words for its refusals of the request (400, 422,
 * 429), with the status for its failures, so a stored or shown reason says where it came from.
 */
function describe(status: number, message: string): string {
  if (status === 400 || status === 422 || status === 429) return message;
  if (status === 404) return `HighLevel: ${message}`;
  return `HighLevel answered HTTP ${status}: ${message}`;
}

/** HighLevel answered with an error status. */
export class HighLevelApiError extends HighLevelError {
  constructor(
    status: number,
    /** HighLevel's own message (`message`, `error_description` or the body's text). */
    readonly highLevelMessage: string,
    /** Seconds to wait, from `Retry-After` on a 429 (or what the rate-limit headers imply). */
    retryAfterSeconds?: number,
  ) {
    super(describe(status, highLevelMessage), status, { ...meaning(status), retryAfterSeconds });
  }
}

/**
 * The app held a call back to stay under HighLevel's limits for `owner`: nothing was sent.
 * `limit` says which: the burst window (seconds away) or the day's calls (until the day resets).
 */
export class RateLimitHeld extends HighLevelError {
  constructor(
    readonly owner: string,
    readonly limit: "burst" | "daily",
    /** When calls for `owner` can go again, as far as the app knows. */
    readonly resumesAt: Date,
  ) {
    const seconds = Math.max(1, Math.ceil((resumesAt.getTime() - Date.now()) / 1000));
    super(
      limit === "daily"
        ? `The daily HighLevel limit is reached for ${owner}; calls resume at ${resumesAt.toISOString()}.`
        : `${owner} has used its HighLevel rate limit for now; retry in ${seconds} s.`,
      undefined,
      { code: "rate_limited", retryable: true, retryAfterSeconds: seconds },
    );
  }
}

/** `Invalid grant`: the refresh token (or code) is dead; only a reinstall helps. */
export class InvalidGrantError extends HighLevelApiError {
  override readonly code: ErrorCode = "upstream_error";
  override readonly retryable = false;
}

/** `Location is not active`: temporary; the same refresh token works again later. */
export class LocationInactiveError extends HighLevelApiError {
  override readonly code: ErrorCode = "location_inactive";
  override readonly retryable = true;
}

/**
 * RFC 6749 `invalid_client` / `unauthorized_client`: HighLevel refuses the app itself (its client id
 * or secret), for every installation alike. No installation is at fault and retrying cannot help.
 */
export class ClientRejectedError extends HighLevelApiError {
  override readonly code: ErrorCode = "upstream_error";
  override readonly retryable = false;
}

/** 401 on an API call: the access token is not (or no longer) valid. */
export class InvalidAccessTokenError extends HighLevelApiError {}

/**
 * 401 for a scope the installation was not granted (installed before the app asked for it), or a
 * token of the wrong kind: a renewed token has the same scopes, so only a reinstall helps.
 */
export class MissingScopeError extends HighLevelApiError {
  override readonly code: ErrorCode = "reauthorization_required";
  override readonly retryable = false;
}

/**
 * No answer: connection refused or reset, timeout. `requestSent` says whether HighLevel may
 * have acted on it (a create may exist, a refresh token may be spent).
 */
export class HighLevelUnreachableError extends HighLevelError {
  constructor(
    message: string,
    readonly requestSent: boolean,
  ) {
    super(message, undefined, { retryable: true });
  }
}

/** HighLevel answered 2xx with a body we cannot use: a contract mismatch, not worth repeating. */
export class HighLevelResponseError extends HighLevelError {}

/**
 * HighLevel down or failing (no answer, or 5xx): a request that is safe to repeat may simply be
 * sent again in a moment. Rate limits and inactive locations are retryable too, but not this soon.
 */
export const highLevelFailing = (err: unknown): err is HighLevelError =>
  err instanceof HighLevelUnreachableError || (err instanceof HighLevelApiError && (err.status ?? 0) >= 500);
