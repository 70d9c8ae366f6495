import { AppError } from "../errors";

/**
 * Why the app cannot act for a location or agency. The codes are the API's (README, "Use the
 * API"): not installed, reinstall needed, inactive for now, HighLevel failing.
 */
export function locationNotInstalled(locationId: string): AppError {
  return new AppError(
    "location_not_installed",
    `Location ${locationId} has not installed this app (or uninstalled it). Install it from the HighLevel marketplace first.`,
  );
}

export function companyNotInstalled(companyId: string): AppError {
  return new AppError("not_found", `Agency ${companyId} has not installed this app (or uninstalled it).`);
}

export function reauthorizationRequired(what: string, installUrl: string, reason?: string | null): AppError {
  return new AppError(
    "reauthorization_required",
    `HighLevel no longer accepts the stored authorization for ${what}${reason ? ` (${reason})` : ""}. ` +
      `An agency admin must reinstall the app: ${installUrl}`,
  );
}

export function locationInactive(locationId: string): AppError {
  return new AppError(
    "location_inactive",
    `HighLevel reports location ${locationId} as not active. The connection is kept and retried; try again later.`,
    { retryable: true, retryAfterSeconds: 60 },
  );
}

/** An agency install queued this location's token and has not got it yet: a matter of seconds or minutes. */
export function locationConnecting(locationId: string): AppError {
  return new AppError(
    "location_connecting",
    `Location ${locationId} is still being connected: its agency's install is getting its token. Try again shortly.`,
    { retryable: true, retryAfterSeconds: 30 },
  );
}

/** HighLevel could not be asked for a new token right now (down, slow): worth trying again. */
export function tokenUnavailable(what: string, reason: string): AppError {
  return new AppError("upstream_error", `Could not renew the HighLevel token for ${what}: ${reason}`, {
    retryable: true,
  });
}
