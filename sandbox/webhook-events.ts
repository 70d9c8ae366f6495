import type { OAuthState } from "./oauth-state";
import type { InstallTarget, SandboxCompany } from "./types";
import type { WebhookPayload } from "./webhooks";
import type { FoundLocation } from "./world";

/**
 * The bodies of HighLevel's app and location webhooks, as its event pages document them
 * (docs/highlevel.md, Webhooks). `timestamp` and `webhookId` are added when sending.
 */

/** A sub-account install carries `locationId`; an agency (bulk) install does not. */
export function installEvent(state: OAuthState, company: SandboxCompany, target: InstallTarget): WebhookPayload {
  return {
    type: "INSTALL",
    appId: state.appId,
    ...("locationId" in target ? { locationId: target.locationId } : {}),
    companyId: company.id,
    userId: state.userIdFor(company.id),
    companyName: company.name,
    isWhitelabelCompany: false,
    whitelabelDetails: {},
  };
}

/**
 * An agency installed "to future locations" gets the app on each sub-account it adds. HighLevel's
 * event page warns that such an INSTALL may lack `companyId` and `userId`; the sandbox leaves both
 * out, the harder case for an app.
 */
export function futureInstallEvent(state: OAuthState, locationId: string): WebhookPayload {
  return { type: "INSTALL", appId: state.appId, locationId, isWhitelabelCompany: false, whitelabelDetails: {} };
}

/** As the documented examples: a sub-account uninstall names only the location. */
export function uninstallEvent(
  state: OAuthState,
  target: { locationId: string } | { companyId: string },
): WebhookPayload {
  return { type: "UNINSTALL", appId: state.appId, ...target };
}

/**
 * The documented fields only: the time zone is not among them, so an app that cares must read
 * the location again (GET /locations/{locationId}).
 */
export function locationUpdateEvent({ company, location }: FoundLocation): WebhookPayload {
  return {
    type: "LocationUpdate",
    id: location.id,
    companyId: company.id,
    name: location.name,
    ...(location.email ? { email: location.email } : {}),
  };
}

/** Sent to agency-level apps when an agency adds a sub-account. */
export function locationCreateEvent({ company, location }: FoundLocation): WebhookPayload {
  return { ...locationUpdateEvent({ company, location }), type: "LocationCreate" };
}
