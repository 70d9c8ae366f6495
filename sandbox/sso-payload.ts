import crypto from "node:crypto";

/**
 * HighLevel's side of custom-page single sign-on: the parent frame hands the page
 * `CryptoJS.AES.encrypt(JSON.stringify(user), sharedSecret).toString()`, i.e. base64 of
 * "Salted__" + 8-byte salt + AES-256-CBC ciphertext, with key and IV from OpenSSL's
 * EVP_BytesToKey (MD5, one iteration). The app only ever decrypts (src/sso/decrypt.ts).
 */
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

/** Same output format as CryptoJS.AES.encrypt with a passphrase, with a fresh salt each call. */
export function encryptSsoPayload(data: object, sharedSecret: string): string {
  if (!sharedSecret) throw new TypeError("SSO shared secret is empty");
  const salt = crypto.randomBytes(8);
  const { key, iv } = evpBytesToKey(sharedSecret, salt);
  const cipher = crypto.createCipheriv("aes-256-cbc", key, iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(data), "utf8"), cipher.final()]);
  return Buffer.concat([Buffer.from("Salted__"), salt, ciphertext]).toString("base64");
}
