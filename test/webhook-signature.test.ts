import crypto from "node:crypto";
import {
  HIGHLEVEL_ED25519_PUBLIC_KEY,
  HIGHLEVEL_RSA_PUBLIC_KEY,
  checkTimestamp,
  loadWebhookKeys,
  verifyWebhookSignature,
} from "../src/webhooks/signature";

describe("webhook signatures", () => {
  const ed = crypto.generateKeyPairSync("ed25519");
  const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keys = loadWebhookKeys({
    ed25519: ed.publicKey.export({ format: "pem", type: "spki" }).toString(),
    rsa: rsa.publicKey.export({ format: "pem", type: "spki" }).toString(),
  });

  // Pretty-printed on purpose: re-serialising it gives the same JSON value with different bytes.
  const rawBody = Buffer.from(
    JSON.stringify({ type: "INSTALL", appId: "app1", companyId: "c1", timestamp: "2025-01-01T00:00:00Z" }, null, 2),
  );
  const signEd = (body: Buffer, key = ed.privateKey) => crypto.sign(null, body, key).toString("base64");
  const signRsa = (body: Buffer, key = rsa.privateKey) => crypto.sign("sha256", body, key).toString("base64");

  it("accepts a valid Ed25519 signature", () => {
    expect(verifyWebhookSignature(rawBody, { "x-ghl-signature": signEd(rawBody) }, keys)).toEqual({
      ok: true,
      scheme: "ed25519",
    });
  });

  it("accepts a valid RSA-SHA256 signature", () => {
    expect(verifyWebhookSignature(rawBody, { "x-wh-signature": signRsa(rawBody) }, keys)).toEqual({
      ok: true,
      scheme: "rsa-sha256",
    });
  });

  it("checks the raw bytes, not the parsed JSON", () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(rawBody.toString())));
    expect(reserialised.equals(rawBody)).toBe(false);
    expect(verifyWebhookSignature(reserialised, { "x-ghl-signature": signEd(rawBody) }, keys).ok).toBe(false);
    expect(verifyWebhookSignature(reserialised, { "x-wh-signature": signRsa(rawBody) }, keys).ok).toBe(false);

    const flipped = Buffer.from(rawBody);
    flipped[10] = flipped[10]! ^ 1;
    expect(verifyWebhookSignature(flipped, { "x-ghl-signature": signEd(rawBody) }, keys).ok).toBe(false);
    expect(verifyWebhookSignature(flipped, { "x-wh-signature": signRsa(rawBody) }, keys).ok).toBe(false);
  });

  it("rejects a signature made with another key", () => {
    const otherEd = crypto.generateKeyPairSync("ed25519").privateKey;
    const otherRsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    expect(verifyWebhookSignature(rawBody, { "x-ghl-signature": signEd(rawBody, otherEd) }, keys)).toEqual({
      ok: false,
      reason: "x-ghl-signature does not match the body",
    });
    expect(verifyWebhookSignature(rawBody, { "x-wh-signature": signRsa(rawBody, otherRsa) }, keys).ok).toBe(false);
  });

  it("accepts the RSA signature when the Ed25519 one does not match, and says the Ed25519 key may be wrong", () => {
    // HighLevel's Ed25519 key is not confirmed; a refused delivery is never sent again.
    const headers = { "x-ghl-signature": signEd(Buffer.from("other body")), "x-wh-signature": signRsa(rawBody) };
    expect(verifyWebhookSignature(rawBody, headers, keys)).toEqual({
      ok: true,
      scheme: "rsa-sha256",
      ed25519Mismatch: true,
    });
  });

  it("refuses a delivery when neither signature matches, naming the first", () => {
    const otherRsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const headers = {
      "x-ghl-signature": signEd(Buffer.from("other body")),
      "x-wh-signature": signRsa(rawBody, otherRsa),
    };
    expect(verifyWebhookSignature(rawBody, headers, keys)).toEqual({
      ok: false,
      reason: "x-ghl-signature does not match the body",
    });
  });

  it("prefers Ed25519 when both headers are present", () => {
    const headers = { "x-ghl-signature": signEd(rawBody), "x-wh-signature": "garbage" };
    expect(verifyWebhookSignature(rawBody, headers, keys)).toEqual({ ok: true, scheme: "ed25519" });
  });

  it("names the expected headers when none is present", () => {
    const result = verifyWebhookSignature(rawBody, { "content-type": "application/json" }, keys);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/x-ghl-signature.*x-wh-signature/);
  });

  it("returns not ok, never throws, on garbage signatures", () => {
    const garbage = ["", "!!!not base64!!!", "AAAA", "QUJD", "a".repeat(5000), signEd(rawBody).slice(0, -4)];
    for (const value of garbage) {
      for (const name of ["x-ghl-signature", "x-wh-signature"]) {
        expect(verifyWebhookSignature(rawBody, { [name]: value }, keys).ok).toBe(false);
      }
    }
    // A hand-built key set with the wrong key type makes crypto.verify throw.
    const swapped = { ed25519: keys.rsa, rsa: keys.ed25519 };
    expect(verifyWebhookSignature(rawBody, { "x-wh-signature": signRsa(rawBody) }, swapped).ok).toBe(false);
    expect(verifyWebhookSignature(rawBody, { "x-ghl-signature": [signEd(rawBody), signEd(rawBody)] }, keys).ok).toBe(
      false,
    );
  });
});

describe("webhook signatures in other spellings", () => {
  const ed = crypto.generateKeyPairSync("ed25519");
  const keys = loadWebhookKeys({ ed25519: ed.publicKey.export({ format: "pem", type: "spki" }).toString() });
  const body = Buffer.from('{"type":"INSTALL"}');
  const signature = crypto.sign(null, body, ed.privateKey).toString("base64");
  const check = (value: string | string[]) => verifyWebhookSignature(body, { "x-ghl-signature": value }, keys);

  it("refuses a valid signature written in non-canonical base64, which a lenient decoder would accept", () => {
    // Node's base64 decoder skips characters it does not know and reads the URL-safe alphabet too:
    // each of these decodes to the valid signature's bytes.
    const urlSafe = signature.replace(/\+/g, "-").replace(/\//g, "_");
    const spellings = [
      `${signature}!`,
      `!${signature}`,
      `${signature.slice(0, 20)}.${signature.slice(20)}`,
      `${signature}=`,
    ];
    if (urlSafe !== signature) spellings.push(urlSafe);
    for (const value of spellings) {
      expect(Buffer.from(value, "base64").equals(Buffer.from(signature, "base64"))).toBe(true);
      expect(check(value)).toEqual({ ok: false, reason: "x-ghl-signature is not base64" });
    }
  });

  it("accepts the signature with whitespace around it", () => {
    expect(check(` ${signature}\t`)).toEqual({ ok: true, scheme: "ed25519" });
  });

  it("says why it refuses a repeated header", () => {
    expect(check([signature, signature])).toEqual({ ok: false, reason: "more than one x-ghl-signature header" });
  });
});

describe("webhook keys", () => {
  it("loads HighLevel's keys by default", () => {
    const keys = loadWebhookKeys();
    expect(keys.ed25519.asymmetricKeyType).toBe("ed25519");
    expect(keys.rsa.asymmetricKeyType).toBe("rsa");
    expect(keys.rsa.asymmetricKeyDetails?.modulusLength).toBe(4096);
    const explicit = loadWebhookKeys({ ed25519: HIGHLEVEL_ED25519_PUBLIC_KEY, rsa: HIGHLEVEL_RSA_PUBLIC_KEY });
    expect(explicit.ed25519.equals(keys.ed25519)).toBe(true);
  });

  it("loads a PEM, a base64 SPKI and a one-line PEM with literal \\n", () => {
    const { publicKey } = crypto.generateKeyPairSync("ed25519");
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    const der = publicKey.export({ format: "der", type: "spki" }).toString("base64");
    for (const text of [pem, der, pem.replace(/\n/g, "\\n")]) {
      expect(loadWebhookKeys({ ed25519: text }).ed25519.equals(publicKey)).toBe(true);
    }
  });

  it("loads a key with whitespace around it, and a base64 key wrapped over lines", () => {
    const { publicKey } = crypto.generateKeyPairSync("ed25519");
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    const der = publicKey.export({ format: "der", type: "spki" }).toString("base64");
    const wrapped = `${der.slice(0, 30)}\n${der.slice(30)}`;
    for (const text of [` ${pem}  `, wrapped]) {
      expect(loadWebhookKeys({ ed25519: text }).ed25519.equals(publicKey)).toBe(true);
    }
  });

  it("throws a clear error on a malformed or wrong-type key", () => {
    expect(() => loadWebhookKeys({ ed25519: "not-a-key!" })).toThrow(
      "Ed25519 public key must be PEM or base64 SPKI DER (not PEM and not base64)",
    );
    expect(() => loadWebhookKeys({ ed25519: HIGHLEVEL_RSA_PUBLIC_KEY })).toThrow(
      "Ed25519 public key is a rsa key, expected ed25519",
    );
    const err = (() => {
      try {
        loadWebhookKeys({ rsa: "QUJD" });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.cause).toHaveProperty("message"); // what the decoder said, for whoever reads the log
    expect(() => loadWebhookKeys({ ed25519: "not a key" })).toThrow(/Ed25519 public key must be PEM or base64/);
    expect(() => loadWebhookKeys({ ed25519: "QUJD" })).toThrow(/Ed25519 public key must be PEM or base64/);
    expect(() => loadWebhookKeys({ rsa: "-----BEGIN PUBLIC KEY-----\nQUJD\n-----END PUBLIC KEY-----" })).toThrow(
      /RSA public key/,
    );
    expect(() => loadWebhookKeys({ ed25519: HIGHLEVEL_RSA_PUBLIC_KEY })).toThrow(/expected ed25519/);
  });
});

describe("webhook timestamps", () => {
  const now = Date.parse("2025-06-01T12:00:00.000Z");
  const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString();

  it("accepts a timestamp within five minutes either way", () => {
    expect(checkTimestamp(iso(0), now)).toEqual({ ok: true });
    expect(checkTimestamp(iso(-4 * 60_000), now)).toEqual({ ok: true });
    expect(checkTimestamp(iso(4 * 60_000), now)).toEqual({ ok: true });
    expect(checkTimestamp(now - 60_000, now)).toEqual({ ok: true });
  });

  it("accepts a timestamp exactly five minutes old or ahead", () => {
    expect(checkTimestamp(iso(-5 * 60_000), now)).toEqual({ ok: true });
    expect(checkTimestamp(now + 5 * 60_000, now)).toEqual({ ok: true });
    expect(checkTimestamp(iso(-5 * 60_000 - 1), now).ok).toBe(false);
  });

  it("rejects a timestamp six minutes old or six minutes ahead", () => {
    expect(checkTimestamp(iso(-6 * 60_000), now)).toEqual({ ok: false, reason: "timestamp is 360s in the past" });
    expect(checkTimestamp(iso(6 * 60_000), now)).toEqual({ ok: false, reason: "timestamp is 360s in the future" });
    expect(checkTimestamp(now + 6 * 60_000, now).ok).toBe(false);
  });

  it("rejects a missing or unparseable timestamp, saying which", () => {
    for (const value of [undefined, null, "", "   ", {}]) {
      expect(checkTimestamp(value, now)).toEqual({ ok: false, reason: "missing timestamp" });
    }
    for (const value of ["yesterday", Number.NaN]) {
      expect(checkTimestamp(value, now)).toEqual({ ok: false, reason: "timestamp is not a date" });
    }
  });
});
