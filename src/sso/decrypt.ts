import crypto from "node:crypto";
import { z } from "zod";

/**
 * HighLevel custom-page SSO (docs/highlevel.md, "Custom pages"). The parent frame hands the page
 * `CryptoJS.AES.encrypt(JSON.stringify(user), sharedSecret).toString()`: base64 of
 * "Salted__" + 8-byte salt + AES-256-CBC ciphertext, key and IV from OpenSSL's EVP_BytesToKey
 * (MD5, one iteration). node:crypto reproduces it, so the app needs no crypto-js.
 */

// A JSON null from the parent frame should not lock a user out, so optional fields accept it.
const optional = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);

const SsoUserSchema = z.object({
  userId: z.string().min(1),
  companyId: z.string().min(1),
  role: optional,
  type: optional,
  userName: optional,
  email: optional,
  activeLocation: optional,
});

export type SsoUser = z.infer<typeof SsoUserSchema>;

/** Messages name what went wrong, never the secret or the decrypted text. */
export class SsoDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SsoDecryptError";
  }
}

const PREFIX = Buffer.from("Salted__");
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function evpBytesToKey(secret: string, salt: Buffer): { key: Buffer; iv: Buffer } {
  const password = Buffer.from(secret, "utf8");
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  while (blocks.length * 16 < 48) {
    previous = crypto
      .createHash("md5")
      .update(Buffer.concat([previous, password, salt]))
      .digest();
    blocks.push(previous);
  }
  const derived = Buffer.concat(blocks);
  return { key: derived.subarray(0, 32), iv: derived.subarray(32, 48) };
}

function requireSecret(secret: string): void {
  // An empty secret is a configuration bug, not a bad payload: let it surface as a 500.
  if (!secret) throw new TypeError("SSO shared secret is empty");
}

export function decryptSsoPayload(payload: string, sharedSecret: string): SsoUser {
  requireSecret(sharedSecret);
  const text = typeof payload === "string" ? payload.trim() : "";
  if (!BASE64.test(text)) throw new SsoDecryptError("SSO payload is not base64");
  const raw = Buffer.from(text, "base64");
  if (raw.length < 32 || !raw.subarray(0, 8).equals(PREFIX)) {
    throw new SsoDecryptError('SSO payload is not in the OpenSSL "Salted__" format');
  }
  const ciphertext = raw.subarray(16);
  if (ciphertext.length % 16 !== 0) throw new SsoDecryptError("SSO payload is truncated");

  const { key, iv } = evpBytesToKey(sharedSecret, raw.subarray(8, 16));
  let plaintext: string;
  try {
    const decipher = crypto.createDecipheriv("aes-256-cbc", key, iv);
    const bytes = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    // fatal: a wrong key that happens to leave valid padding yields bytes that are rarely UTF-8.
    plaintext = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new SsoDecryptError("SSO payload does not decrypt with the shared secret (wrong secret or tampered payload)");
  }

  let data: unknown;
  try {
    data = JSON.parse(plaintext);
  } catch {
    // JSON.parse's own message quotes the input, so it must not be passed on.
    throw new SsoDecryptError("SSO payload did not decrypt to JSON (wrong secret or tampered payload)");
  }
  const parsed = SsoUserSchema.safeParse(data);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(root)"))];
    throw new SsoDecryptError(`SSO payload is missing or has invalid fields: ${fields.join(", ")}`);
  }
  return parsed.data;
}

/**
 * SHA-256 (hex) of a payload's decoded bytes: the same for any base64 spelling of the same bytes
 * (padding bits, surrounding spaces), different for each encryption of the same user.
 */
export function ssoPayloadDigest(payload: string): string {
  const raw = Buffer.from(payload.trim(), "base64");
  return crypto.createHash("sha256").update(raw).digest("hex");
}
