import { randomBytes, randomInt } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A 20-character id shaped like HighLevel's (e.g. "tDtDnQdgm2LXpyiqYvZ6"). */
export function newId(length = 20): string {
  let id = "";
  for (let i = 0; i < length; i += 1) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/** Opaque secret with a recognisable prefix, so a leaked sandbox token is obvious in logs. */
export function newSecret(prefix: string): string {
  return `${prefix}-${randomBytes(24).toString("base64url")}`;
}
