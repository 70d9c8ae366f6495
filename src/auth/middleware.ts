import crypto from "node:crypto";
import type { RequestHandler } from "express";
import { ProblemError } from "./problem";

const digest = (key: string) => crypto.createHash("sha256").update(key).digest();

/**
 * `Authorization: Bearer <key>` against the bootstrap keys from API_KEYS. Keys are compared as
 * SHA-256 digests in constant time, so neither their length nor a prefix leaks through timing.
 */
export function requireApiKey(keys: readonly string[]): RequestHandler {
  const known = keys.map(digest);
  return (req, _res, next) => {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new ProblemError(401, "unauthorized", "Send an API key as `Authorization: Bearer <key>`.");
    }
    const given = digest(match[1]!);
    if (!known.some((k) => crypto.timingSafeEqual(k, given))) {
      throw new ProblemError(401, "unauthorized", "The API key is not valid.");
    }
    next();
  };
}
