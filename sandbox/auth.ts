import type { NextFunction, Request, Response } from "express";
import { INVALID_TOKEN_BODY, refuse, rejectInvalid } from "./errors";
import { bearerToken, type SecurityRequirement, type ValidationResult } from "./openapi-validator";
import { ownerOf, type SandboxState } from "./state";
import type { AccessTokenRecord, UserType } from "./types";

/**
 * Which kind of token a security scheme of the OpenAPI files wants. "bearer" and
 * "Location-Access*" are described as Sub-Account tokens, "Agency-Access*" as Agency tokens.
 */
function userTypeOf(requirement: SecurityRequirement): UserType {
  return /agency|company/i.test(requirement.scheme) ? "Company" : "Location";
}

// Wording seen in HighLevel's answers for a token of the wrong kind or without the scope.
const WRONG_USER_TYPE = {
  statusCode: 401,
  message:
    "This authClass type is not allowed to access this scope. Please reach out to the Platform team to get it added.",
};
const MISSING_SCOPE = { statusCode: 401, message: "The token is not authorized for this scope." };

export function validation(res: Response): ValidationResult {
  return res.locals.validation as ValidationResult;
}

/** The access token authenticated by `authenticate` (only on routes whose operation has `security`). */
export function accessToken(res: Response): AccessTokenRecord {
  const token = res.locals.accessToken as AccessTokenRecord | undefined;
  if (!token) throw new Error("sandbox: route needs authenticate() first");
  return token;
}

/** Checks the Bearer token against the operation's `security` (kind of token and scopes). */
export function authenticate(state: SandboxState) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const { security } = validation(res);
    if (security.length === 0 || security.some((alternative) => alternative.length === 0)) return next();
    const token = bearerToken(req.headers);
    // A missing header is already recorded as invalid by the OpenAPI validator.
    if (!token) return void res.status(401).json(INVALID_TOKEN_BODY);
    const record = state.accessTokens.get(token);
    if (!record) return rejectInvalid(res, 401, INVALID_TOKEN_BODY, ["access token is unknown to HighLevel"]);
    if (record.revoked) return refuse(res, 401, INVALID_TOKEN_BODY, "access token was expired by the test");
    if (record.expiresAt.getTime() <= Date.now()) {
      return refuse(res, 401, INVALID_TOKEN_BODY, "access token expired (expires_in elapsed)");
    }
    const fits = (alternative: SecurityRequirement[]) =>
      alternative.every((r) => userTypeOf(r) === record.userType && r.scopes.every((s) => record.scopes.includes(s)));
    if (!security.some(fits)) {
      const rightKind = security.some((alt) => alt.every((r) => userTypeOf(r) === record.userType));
      if (!rightKind) {
        const wanted = security.map((alt) => alt.map(userTypeOf).join("+")).join(" or ");
        return rejectInvalid(res, 401, WRONG_USER_TYPE, [`needs a ${wanted} token, got a ${record.userType} token`]);
      }
      const ofKind = security.filter((alt) => alt.every((r) => userTypeOf(r) === record.userType));
      const scopes = [...new Set(ofKind.map((alt) => alt.flatMap((r) => r.scopes).join(" ")))].join(" or ");
      return rejectInvalid(res, 401, MISSING_SCOPE, [`token lacks scope ${scopes}`]);
    }
    res.locals.accessToken = record;
    next();
  };
}

/** HighLevel's burst and daily limits, per location or company, with its X-RateLimit-* headers. */
export function rateLimit(state: SandboxState) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const record = res.locals.accessToken as AccessTokenRecord | undefined;
    if (!record) return next();
    const verdict = state.rateLimiter.hit(ownerOf(record), res);
    if (verdict.allowed) return next();
    if (state.rateLimiter.retryAfter) res.set("Retry-After", String(verdict.retryAfterSeconds));
    // The real 429 body is UNCONFIRMED (docs/highlevel.md, Rate limits): apps must go by the status and headers.
    refuse(res, 429, { statusCode: 429, message: "Too many requests" }, "rate limit exceeded");
  };
}
