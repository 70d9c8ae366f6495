/**
 * Typed errors for everything HighLevel can answer. They carry HighLevel's message but never
 * a request's headers or body, so they are safe to log and to show.
 */
export class HighLevelError extends Error {
  constructor(
    message: string,
    /** HTTP status from HighLevel, or undefined when no answer came. */
    readonly status?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** HighLevel answered with an error status. */
export class HighLevelApiError extends HighLevelError {
  constructor(
    status: number,
    message: string,
    /** Seconds to wait, from `Retry-After` on a 429. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message, status);
  }
}

/** `Invalid grant`: the refresh token (or code) is dead; only a reinstall helps. */
export class InvalidGrantError extends HighLevelApiError {}

/** `Location is not active`: temporary; the same refresh token works again later. */
export class LocationInactiveError extends HighLevelApiError {}

/** 401 on an API call: the access token is not (or no longer) valid. */
export class InvalidAccessTokenError extends HighLevelApiError {}

/**
 * No answer: connection refused or reset, timeout. `requestSent` says whether HighLevel may
 * have acted on it (a create may exist, a refresh token may be spent).
 */
export class HighLevelUnreachableError extends HighLevelError {
  constructor(
    message: string,
    readonly requestSent: boolean,
  ) {
    super(message);
  }
}

/** HighLevel answered 2xx with a body we cannot use. */
export class HighLevelResponseError extends HighLevelError {}
