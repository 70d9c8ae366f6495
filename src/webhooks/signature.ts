import crypto, { type KeyObject } from "node:crypto";

/**
 * HighLevel webhook signatures (docs/highlevel.md, "Webhooks"): always over the RAW request body, base64.
 * `x-ghl-signature` is Ed25519 (current); `x-wh-signature` is RSA-SHA256 (legacy, being retired).
 */

/** The Ed25519 key commonly quoted for HighLevel (UNCONFIRMED, so HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY overrides it). */
export const HIGHLEVEL_ED25519_PUBLIC_KEY = "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=";

/** HighLevel's published RSA key for `x-wh-signature` (HIGHLEVEL_WEBHOOK_PUBLIC_KEY overrides it). */
export const HIGHLEVEL_RSA_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC
Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6
dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB
csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv
uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF
3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU
J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp
IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN
h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC
HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ
PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk
T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==
-----END PUBLIC KEY-----
`;

export interface WebhookKeys {
  ed25519: KeyObject;
  rsa: KeyObject;
}

export type SignatureResult =
  | {
      ok: true;
      scheme: "ed25519" | "rsa-sha256";
      /** Set when an x-ghl-signature came too and did not match: the Ed25519 key may be wrong. */
      ed25519Mismatch?: true;
    }
  | { ok: false; reason: string };
export type TimestampResult = { ok: true } | { ok: false; reason: string };

// Strict, because Buffer.from(..., "base64") silently skips characters it does not know.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parsePublicKey(text: string, expected: "ed25519" | "rsa", label: string): KeyObject {
  // Env files often carry a PEM on one line with literal "\n".
  const value = text.replace(/\\n/g, "\n").trim();
  let key: KeyObject;
  try {
    if (value.includes("-----BEGIN")) {
      key = crypto.createPublicKey(value);
    } else {
      const compact = value.replace(/\s+/g, "");
      if (!BASE64.test(compact)) throw new Error("not PEM and not base64");
      key = crypto.createPublicKey({ key: Buffer.from(compact, "base64"), format: "der", type: "spki" });
    }
  } catch (err) {
    throw new Error(`${label} public key must be PEM or base64 SPKI DER (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (key.asymmetricKeyType !== expected) {
    throw new Error(`${label} public key is a ${key.asymmetricKeyType ?? "unknown"} key, expected ${expected}`);
  }
  return key;
}

/** Unset values fall back to HighLevel's keys; a malformed value throws so config can name the variable. */
export function loadWebhookKeys(input: { ed25519?: string; rsa?: string } = {}): WebhookKeys {
  return {
    ed25519: parsePublicKey(input.ed25519 || HIGHLEVEL_ED25519_PUBLIC_KEY, "ed25519", "Ed25519"),
    rsa: parsePublicKey(input.rsa || HIGHLEVEL_RSA_PUBLIC_KEY, "rsa", "RSA"),
  };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | string[] | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

// Strongest first. A delivery carrying both headers is accepted when either matches its key: the
// Ed25519 key is not confirmed by HighLevel's documentation, and a refused delivery is never sent
// again (only a 429 is), so a wrong Ed25519 key must not lose what the published RSA key vouches
// for. Neither scheme is forgeable without HighLevel's private key, so accepting either weakens nothing.
const SCHEMES = [
  { header: "x-ghl-signature", scheme: "ed25519", algorithm: null, key: "ed25519" },
  { header: "x-wh-signature", scheme: "rsa-sha256", algorithm: "sha256", key: "rsa" },
] as const;

export function verifyWebhookSignature(
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
  keys: WebhookKeys,
): SignatureResult {
  let refused: string | undefined;
  for (const { header: name, scheme, algorithm, key } of SCHEMES) {
    const value = header(headers, name);
    if (value === undefined) continue;
    const reason = check(rawBody, name, value, algorithm, keys[key]);
    if (reason === undefined) return refused ? { ok: true, scheme, ed25519Mismatch: true } : { ok: true, scheme };
    refused ??= reason;
  }
  return {
    ok: false,
    reason: refused ?? "missing signature: expected an x-ghl-signature (Ed25519) or x-wh-signature (RSA) header",
  };
}

/** Why one header's signature does not vouch for the body; undefined when it does. */
function check(
  rawBody: Buffer,
  name: string,
  value: string | string[],
  algorithm: "sha256" | null,
  key: KeyObject,
): string | undefined {
  if (Array.isArray(value)) return `more than one ${name} header`;
  const signature = value.trim();
  if (!BASE64.test(signature)) return `${name} is not base64`;
  try {
    if (crypto.verify(algorithm, rawBody, key, Buffer.from(signature, "base64"))) return undefined;
  } catch {
    // A key of the wrong type throws here; the caller must still get a plain "not ok".
  }
  return `${name} does not match the body`;
}

/** Replay guard: HighLevel's `timestamp` (ISO-8601, or epoch ms) must be within the tolerance either way. */
export function checkTimestamp(timestamp: unknown, now = Date.now(), toleranceMs = 5 * 60_000): TimestampResult {
  let at: number;
  if (typeof timestamp === "number") at = timestamp;
  else if (typeof timestamp === "string" && timestamp.trim() !== "") at = Date.parse(timestamp);
  else return { ok: false, reason: "missing timestamp" };
  if (!Number.isFinite(at)) return { ok: false, reason: "timestamp is not a date" };
  const skew = at - now;
  if (Math.abs(skew) > toleranceMs) {
    return {
      ok: false,
      reason: `timestamp is ${Math.round(Math.abs(skew) / 1000)}s in the ${skew < 0 ? "past" : "future"}`,
    };
  }
  return { ok: true };
}
