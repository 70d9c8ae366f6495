import crypto from "node:crypto";

/**
 * AES-256-GCM for tokens at rest. A value is `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url),
 * so keys can rotate: the first key of the ring encrypts, every key decrypts.
 * The associated data binds a ciphertext to its row and column: a value copied into another
 * row (or from the refresh column into the access column) fails to decrypt.
 */
export interface Keyring {
  primary: { id: string; key: Buffer };
  keys: Map<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

function decodeKey(id: string, text: string): Buffer {
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== 32) {
    throw new Error(`key "${id}" must be 32 bytes encoded as base64 (got ${key.length} bytes)`);
  }
  return key;
}

/** `base64key` or `id1:base64key1,id2:base64key2` (`TOKEN_ENCRYPTION_KEY`, .env.example). */
export function parseKeyring(value: string): Keyring {
  const entries = value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error("must hold at least one key");
  const keys = new Map<string, Buffer>();
  let primary: Keyring["primary"] | undefined;
  for (const entry of entries) {
    const colon = entry.indexOf(":");
    const id = colon === -1 ? "k1" : entry.slice(0, colon);
    const text = colon === -1 ? entry : entry.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new Error(`key id "${id}" may use only letters, digits, - and _`);
    if (keys.has(id)) throw new Error(`key id "${id}" appears twice`);
    const key = decodeKey(id, text);
    keys.set(id, key);
    primary ??= { id, key };
  }
  return { primary: primary!, keys };
}

export function generateKey(): string {
  return crypto.randomBytes(32).toString("base64");
}

export class TokenCipher {
  constructor(private readonly ring: Keyring) {}

  static fromConfig(value: string): TokenCipher {
    return new TokenCipher(parseKeyring(value));
  }

  encrypt(plaintext: string, context: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.ring.primary.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      "v1",
      this.ring.primary.id,
      iv.toString("base64url"),
      tag.toString("base64url"),
      ciphertext.toString("base64url"),
    ].join(".");
  }

  decrypt(value: string, context: string): string {
    const [version, keyId, iv, tag, ciphertext] = value.split(".");
    if (version !== "v1" || !keyId || !iv || !tag || ciphertext === undefined) {
      throw new Error("stored token is not in the expected encrypted format");
    }
    const key = this.ring.keys.get(keyId);
    if (!key)
      throw new Error(`stored token was encrypted with key "${keyId}", which TOKEN_ENCRYPTION_KEY no longer holds`);
    const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  }

  /** The id of the key that encrypts (the first of TOKEN_ENCRYPTION_KEY). */
  get primaryId(): string {
    return this.ring.primary.id;
  }

  /** Whether TOKEN_ENCRYPTION_KEY holds the key of this id. */
  holds(keyId: string): boolean {
    return this.ring.keys.has(keyId);
  }

  /** True when the value was written with an older key and should be re-encrypted. */
  isStale(value: string): boolean {
    return value.split(".")[1] !== this.ring.primary.id;
  }
}
