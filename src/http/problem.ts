/**
 * RFC 9457 problem details. `code` is the stable machine word clients switch on
 * (CONTRACT.md); `title` is fixed per code; `detail` explains this occurrence.
 */
export interface FieldError {
  path: string;
  message: string;
}

const TITLES: Record<string, string> = {
  invalid_request: "The request is invalid",
  unauthorized: "Authentication required",
  forbidden: "Not allowed",
  not_found: "Not found",
  location_not_installed: "Location not installed",
  reauthorization_required: "Reauthorization required",
  location_inactive: "Location inactive",
  rate_limited: "Too many requests",
  upstream_error: "HighLevel error",
  idempotency_conflict: "Idempotency key reused",
  invalid_signature: "Invalid webhook signature",
  stale_webhook: "Stale webhook",
  unsupported_media_type: "Unsupported media type",
  payload_too_large: "Payload too large",
  service_unavailable: "Service unavailable",
  internal_error: "Internal error",
};

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; retryAfterSeconds?: number } = {},
  ) {
    super(detail);
    this.name = "ProblemError";
  }

  get title(): string {
    return TITLES[this.code] ?? "Error";
  }

  toJSON() {
    return {
      type: `about:blank#${this.code}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(this.extra.errors ? { errors: this.extra.errors } : {}),
    };
  }
}

export const notFound = (detail: string) => new ProblemError(404, "not_found", detail);
export const invalidRequest = (detail: string, errors?: FieldError[]) =>
  new ProblemError(400, "invalid_request", detail, { errors });
