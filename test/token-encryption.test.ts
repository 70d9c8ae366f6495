import { TokenCipher, generateKey, parseKeyring } from "../src/tokens/crypto";

describe("token encryption at rest", () => {
  const key = generateKey();

  it("round-trips a token and never stores it in plain text", () => {
    const cipher = TokenCipher.fromConfig(key);
    const sealed = cipher.encrypt("secret-access-token", "location:loc1:access");
    expect(sealed).not.toContain("secret-access-token");
    expect(sealed.startsWith("v1.k1.")).toBe(true);
    expect(cipher.decrypt(sealed, "location:loc1:access")).toBe("secret-access-token");
  });

  it("refuses a ciphertext moved to another row or column", () => {
    const cipher = TokenCipher.fromConfig(key);
    const sealed = cipher.encrypt("tok", "location:loc1:access");
    expect(() => cipher.decrypt(sealed, "location:loc2:access")).toThrow();
    expect(() => cipher.decrypt(sealed, "location:loc1:refresh")).toThrow();
  });

  it("detects tampering", () => {
    const cipher = TokenCipher.fromConfig(key);
    const parts = cipher.encrypt("tok", "ctx").split(".");
    parts[4] = Buffer.from("tampered").toString("base64url");
    expect(() => cipher.decrypt(parts.join("."), "ctx")).toThrow();
  });

  it("rotates keys: the first key encrypts, every key decrypts", () => {
    const oldKey = generateKey();
    const before = TokenCipher.fromConfig(`old:${oldKey}`);
    const sealedWithOld = before.encrypt("tok", "ctx");
    const after = TokenCipher.fromConfig(`new:${generateKey()},old:${oldKey}`);
    expect(after.decrypt(sealedWithOld, "ctx")).toBe("tok");
    expect(after.isStale(sealedWithOld)).toBe(true);
    expect(after.encrypt("tok", "ctx").split(".")[1]).toBe("new");
  });

  it("names the problem with a malformed keyring", () => {
    expect(() => parseKeyring("c2hvcnQ=")).toThrow(/32 bytes/);
    expect(() => parseKeyring(`a:${key},a:${key}`)).toThrow(/twice/);
    expect(() => parseKeyring("bad id!:" + key)).toThrow(/key id/);
  });
});
