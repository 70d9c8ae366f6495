import { Router, type Request, type Response } from "express";
import { accessToken } from "./auth";
import { httpErrorBody, NO_LOCATION_ACCESS, refuse, rejectInvalid, unprocessable } from "./errors";
import { ownerOf, type Grant, type SandboxState } from "./state";
import type { AccessTokenRecord, RefreshTokenRecord } from "./types";

type Form = Record<string, string | undefined>;

type OAuthErrorCode = "invalid_request" | "invalid_client" | "invalid_grant" | "unsupported_grant_type";

/** How HighLevel's OAuth server words each RFC 6749 error: "Invalid grant: refresh token is invalid". */
const PREFIXES: Record<OAuthErrorCode, string> = {
  invalid_request: "Invalid request",
  invalid_client: "Invalid client",
  invalid_grant: "Invalid grant",
  unsupported_grant_type: "Unsupported grant type",
};

/** A token-endpoint refusal in the style the state asks for (SandboxOptions.oauthErrorStyle). */
function oauthError(state: SandboxState, code: OAuthErrorCode, description: string) {
  const status = code === "invalid_client" ? 401 : 400;
  if (state.oauthErrorStyle === "rfc6749") return { status, body: { error: code, error_description: description } };
  const message = `${PREFIXES[code]}: ${description}`;
  return {
    status,
    body: status === 401 ? { statusCode: 401, message, error: "Unauthorized" } : { statusCode: status, message },
  };
}

function refuseGrant(state: SandboxState, res: Response, code: OAuthErrorCode, description: string, note: string) {
  const { status, body } = oauthError(state, code, description);
  refuse(res, status, body, note);
}

function rejectGrant(state: SandboxState, res: Response, code: OAuthErrorCode, description: string, why: string) {
  const { status, body } = oauthError(state, code, description);
  rejectInvalid(res, status, body, [why]);
}

/** Not an OAuth error but HighLevel's own, and temporary: kept in its shape whatever the style. */
const LOCATION_INACTIVE = httpErrorBody(400, "Location is not active");

/** GetAccessCodeSuccessfulResponseDto, shaped by the kind of token (docs/highlevel.md, OAuth). */
function tokenResponse(state: SandboxState, access: AccessTokenRecord, refresh: RefreshTokenRecord) {
  const common = {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: state.accessTokenTtlSeconds,
    refresh_token: refresh.token,
    scope: access.scopes.join(" "),
    userType: access.userType,
    companyId: access.companyId,
    userId: access.userId,
  };
  if (access.userType === "Location") return { ...common, locationId: access.locationId };
  // An install on every sub-account also covers the ones the agency adds later.
  const all = state.companyInstalls.get(access.companyId)?.installToFutureLocations ?? false;
  return {
    ...common,
    ...(state.approvedLocations ? { approvedLocations: state.installedLocationIds(access.companyId) } : {}),
    isBulkInstallation: true,
    installToFutureLocations: all,
    approveAllLocations: all,
  };
}

function issuePair(state: SandboxState, grant: Grant) {
  return tokenResponse(state, state.issueAccessToken(grant), state.issueRefreshToken(grant));
}

function authorizationCodeGrant(state: SandboxState, form: Form, res: Response): void {
  if (!form.code) return rejectGrant(state, res, "invalid_request", "missing parameter: `code`", "code is required");
  const code = state.codes.get(form.code);
  if (!code || code.used) {
    return refuseGrant(state, res, "invalid_grant", "authorization code is invalid", "unknown or used code");
  }
  code.used = true; // single use, even when the exchange below fails
  if (code.expiresAt.getTime() <= Date.now()) {
    return refuseGrant(state, res, "invalid_grant", "authorization code has expired", "code older than 10 minutes");
  }
  if (code.redirectUri && form.redirect_uri && code.redirectUri !== form.redirect_uri) {
    const why = `redirect_uri ${form.redirect_uri} differs from the consent's ${code.redirectUri}`;
    return rejectGrant(state, res, "invalid_grant", "`redirect_uri` is invalid", why);
  }
  // The install decides the kind of token, whatever user_type says (docs/highlevel.md, agency installs).
  let grant: Grant;
  if ("locationId" in code.target) {
    const found = state.findLocation(code.target.locationId);
    if (!found) return refuseGrant(state, res, "invalid_grant", "authorization code is invalid", "location vanished");
    grant = { userType: "Location", companyId: found.company.id, locationId: found.location.id, scopes: code.scopes };
  } else {
    grant = { userType: "Company", companyId: code.target.companyId, scopes: code.scopes };
  }
  res.json(issuePair(state, grant));
}

function refreshTokenGrant(state: SandboxState, form: Form, res: Response): void {
  if (!form.refresh_token) {
    const why = "refresh_token is required";
    return rejectGrant(state, res, "invalid_request", "missing parameter: `refresh_token`", why);
  }
  const record = state.refreshTokens.get(form.refresh_token);
  state.refreshGrants.push({ ownerId: record && ownerOf(record), ok: false, at: new Date() });
  const grantLog = state.refreshGrants[state.refreshGrants.length - 1]!;
  if (!record || record.dead) {
    const note = `refresh token ${record?.dead ?? "unknown"}`;
    return refuseGrant(state, res, "invalid_grant", "refresh token is invalid", note);
  }
  if (record.expiresAt.getTime() <= Date.now()) {
    return refuseGrant(state, res, "invalid_grant", "refresh token has expired", "refresh token older than a year");
  }
  // Temporary: the refresh token stays valid and works again once the location is active.
  if (record.locationId && state.inactiveLocations.has(record.locationId)) {
    return refuse(res, 400, LOCATION_INACTIVE, "location set inactive by the test");
  }
  record.dead = "used"; // single use (docs/highlevel.md, OAuth)
  grantLog.ok = true;
  const { userType, companyId, locationId, scopes } = record;
  res.json(issuePair(state, { userType, companyId, locationId, scopes }));
}

function token(state: SandboxState) {
  return (req: Request, res: Response): void => {
    const form = req.body as Form;
    if (form.client_id !== state.clientId || form.client_secret !== state.clientSecret) {
      return rejectGrant(
        state,
        res,
        "invalid_client",
        "client is invalid",
        "client_id / client_secret do not match the app",
      );
    }
    if (form.grant_type === "authorization_code") return authorizationCodeGrant(state, form, res);
    if (form.grant_type === "refresh_token") return refreshTokenGrant(state, form, res);
    refuseGrant(state, res, "unsupported_grant_type", "`grant_type` is invalid", "grant not simulated");
  };
}

function locationToken(state: SandboxState) {
  return (req: Request, res: Response): void => {
    const company = accessToken(res);
    const { companyId, locationId } = req.body as Form;
    if (companyId !== company.companyId) {
      return rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`companyId ${companyId} is not the token's company`]);
    }
    const found = state.findLocation(locationId ?? "");
    if (!found) return refuse(res, 400, httpErrorBody(400, "Location not found"), "no such location");
    if (found.company.id !== company.companyId) {
      return rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`location ${locationId} belongs to another company`]);
    }
    const { location } = found;
    if (location.mintError) {
      return refuse(res, location.mintError.status, location.mintError.body, "mintError of the fixture");
    }
    if (!state.installs.has(location.id)) {
      return refuse(res, 400, httpErrorBody(400, "The app is not installed on this location"), "not installed");
    }
    if (state.inactiveLocations.has(location.id)) return refuse(res, 400, LOCATION_INACTIVE, "location inactive");
    const grant: Grant = {
      userType: "Location",
      companyId: company.companyId,
      locationId: location.id,
      scopes: company.scopes,
    };
    const access = state.issueAccessToken(grant);
    state.countMint(location.id);
    res.json({
      access_token: access.token,
      token_type: "Bearer",
      expires_in: state.accessTokenTtlSeconds,
      scope: access.scopes.join(" "),
      locationId: location.id,
      userId: access.userId,
      // Older HighLevel answers carry no refresh token; the app must mint again then.
      ...(state.locationTokensHaveRefreshToken ? { refresh_token: state.issueRefreshToken(grant).token } : {}),
    });
  };
}

function nonNegativeInt(value: unknown, fallback: number): number | undefined {
  if (value === undefined || value === "") return fallback;
  return typeof value === "string" && /^\d+$/.test(value) ? Number(value) : undefined;
}

function installedLocations(state: SandboxState) {
  return (req: Request, res: Response): void => {
    const company = accessToken(res);
    const q = req.query as Record<string, string | undefined>;
    if (q.companyId !== company.companyId) {
      return rejectInvalid(res, 403, NO_LOCATION_ACCESS, [`companyId ${q.companyId} is not the token's company`]);
    }
    if (q.appId !== state.appId) {
      return rejectInvalid(res, 400, httpErrorBody(400, "Invalid appId"), [`appId ${q.appId} is not ${state.appId}`]);
    }
    const skip = nonNegativeInt(q.skip, 0);
    const limit = nonNegativeInt(q.limit, 20); // HighLevel's default page: apps must read every page
    if (skip === undefined || limit === undefined || limit === 0) {
      return unprocessable(res, ["skip and limit must be whole numbers, limit at least 1"]);
    }
    const all = state.findCompany(company.companyId)?.locations ?? [];
    const matching = all
      .map((l) => ({ location: l, installedAt: state.installs.get(l.id) }))
      .filter(({ installedAt }) => q.isInstalled === undefined || String(installedAt !== undefined) === q.isInstalled)
      .filter(({ location }) => !q.locationId || location.id === q.locationId)
      .filter(({ location }) => !q.query || location.name.toLowerCase().includes(q.query.toLowerCase()));
    res.json({
      locations: matching
        .slice(skip, skip + Math.min(limit, state.installedLocationsPageCap))
        .map(({ location, installedAt }) => ({
          _id: location.id,
          name: location.name,
          address: location.address ?? "",
          isInstalled: installedAt !== undefined,
          ...(installedAt ? { installedAt: installedAt.toISOString() } : {}),
        })),
      count: matching.length,
      installToFutureLocations: state.companyInstalls.get(company.companyId)?.installToFutureLocations ?? false,
    });
  };
}

/** The API side of OAuth. Requests reach these handlers only after the OpenAPI gate and auth. */
export function oauthRoutes(state: SandboxState): Router {
  const router = Router();
  router.post("/oauth/token", token(state));
  router.post("/oauth/locationToken", locationToken(state));
  router.get("/oauth/installedLocations", installedLocations(state));
  return router;
}
