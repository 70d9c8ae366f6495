import { ProblemError } from "../http/problem";

/**
 * What a caller hears when the app cannot act for a location. Statuses and codes are the
 * contract's (CONTRACT.md): 404 not installed, 409 reinstall, 503 inactive, 502 HighLevel.
 */
export function locationNotInstalled(locationId: string): ProblemError {
  return new ProblemError(
    404,
    "location_not_installed",
    `Location ${locationId} has not installed this app (or uninstalled it). Install it from the HighLevel marketplace first.`,
  );
}

export function companyNotInstalled(companyId: string): ProblemError {
  return new ProblemError(404, "not_found", `Agency ${companyId} has not installed this app (or uninstalled it).`);
}

export function reauthorizationRequired(what: string, installUrl: string, reason?: string | null): ProblemError {
  return new ProblemError(
    409,
    "reauthorization_required",
    `HighLevel no longer accepts the stored authorization for ${what}${reason ? ` (${reason})` : ""}. ` +
      `An agency admin must reinstall the app: ${installUrl}`,
  );
}

export function locationInactive(locationId: string): ProblemError {
  return new ProblemError(
    503,
    "location_inactive",
    `HighLevel reports location ${locationId} as not active. The connection is kept and retried; try again later.`,
    { retryAfterSeconds: 60 },
  );
}

export function tokenUnavailable(what: string, reason: string): ProblemError {
  return new ProblemError(502, "upstream_error", `Could not renew the HighLevel token for ${what}: ${reason}`);
}
