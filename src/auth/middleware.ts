import type { RequestHandler, Response } from "express";
import { AppError } from "../errors";
import type { ApiKeyService, Principal } from "./api-keys";
import type { AuthThrottle } from "./throttle";

/**
 * `Authorization: Bearer <key>`: 401 without a known key; the principal is kept for scope checks.
 * A key that does not authenticate counts against the caller's address (`AuthThrottle`); an address
 * over the limit is refused before its key is looked at.
 */
export function requireApiKey(keys: ApiKeyService, throttle: AuthThrottle): RequestHandler {
  return async (req, res, next) => {
    if (res.locals.principal) return next(); // already checked on the way in (every /api route)
    throttle.assertAllowed(req.ip);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (!match) {
      throw new AppError("unauthorized", "Send an API key as `Authorization: Bearer <key>`.");
    }
    const principal = await keys.authenticate(match[1]!);
    if (!principal) {
      await throttle.failed(req.ip);
      throw new AppError("unauthorized", "The API key is not valid or has been revoked.");
    }
    res.locals.principal = principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  // Only reachable if a route were mounted outside /api: fail closed.
  if (!principal) throw new AppError("unauthorized", "Send an API key as `Authorization: Bearer <key>`.");
  return principal;
}
