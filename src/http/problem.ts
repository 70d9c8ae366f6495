import type { ErrorCode, FieldError } from "../errors";

/** The title of each code: fixed, so clients may show it; `detail` explains the occurrence. */
const TITLES: Record<ErrorCode, string> = {
  invalid_request: "The request is invalid",
  unauthorized: "Authentication required",
  forbidden: "Not allowed",
  not_found: "Not found",
  location_not_installed: "Location not installed",
  reauthorization_required: "Reauthorization required",
  location_inactive: "Location inactive",
  location_connecting: "Location still connecting",
  rate_limited: "Too many requests",
  upstream_error: "HighLevel error",
  idempotency_conflict: "Idempotency key reused",
  not_a_block_slot: "Not a block slot",
  invalid_signature: "Invalid webhook signature",
  stale_webhook: "Stale webhook",
  webhook_not_stored: "Webhook not stored yet",
  unsupported_media_type: "Unsupported media type",
  payload_too_large: "Payload too large",
  too_many_attempts: "Too many failed attempts",
  plan_too_large: "Plan too large",
  plan_deleted: "Plan deleted",
  service_unavailable: "Service unavailable",
  internal_error: "Internal error",
};

/**
 * An RFC 9457 problem as it goes on the wire: `application/problem+json`, with `code` the stable
 * machine word clients switch on. Made only by `toProblem` (src/http/errors.ts).
 */
export class Problem {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly retryAfterSeconds?: number,
  ) {}

  get title(): string {
    return TITLES[this.code];
  }

  toJSON() {
    return {
      type: `about:blank#${this.code}`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}
