import { encryptSsoPayload } from "../sandbox/sso-payload";
import { SsoDecryptError, decryptSsoPayload } from "../src/sso/decrypt";

const SECRET = "shared-secret-for-tests";

// Produced by crypto-js 4.2.0: CryptoJS.AES.encrypt(JSON.stringify(data), "shared-secret-for-tests").toString(),
// i.e. exactly what HighLevel's parent frame sends, so these prove compatibility without crypto-js in the app.
const CRYPTOJS = {
  // {userId:"u_123", companyId:"c_456", role:"admin", type:"agency", userName:"Ada Lovelace", email:"ada@example.com", activeLocation:"loc_789"}
  location:
    "U2FsdGVkX19T/14vt5CSUD9YPb21rY+GVn/lC+sKgXx10cU7YGeapAUI6mOofRuH33ncTGbXezmGHFtl/BUAGhY7uAUJfIzMf1+Jhmpd84wbJyMiY95dOq/v5CjtwFpZUyZ+sv6WZdB8+nbl8hR+4CbHPt1WXDEEZnu4mh3oxs19boj2/pvmCWXyW9yIeJbC33xbKBpauNJZRZdRukqhI7HH26uqbEVQIImesXDCjRA=",
  // The same without activeLocation (opened at agency level).
  agency:
    "U2FsdGVkX185WtwqTb01p40UVVfnwmJevTzWFmw9OYsXLtNxgLNCkMoY8b1KTrs+SuISc7T3FDej6V+tH9KXtrlrUDcLSRgN5yDRpz0+WxrhNffejsHm4BXbljuj2kDTZ7TcyF6NwCh6o4Yk8SUmKCdXL0Qdi6+VL91n+4yH/PhUWskm0tOqoDvoYFCP/cKa",
  // {userId:"u_124", companyId:"c_456", role:"user", type:"account", userName:"Zoë Ünal 日本", email:"zoe@example.com", activeLocation:"loc_789"}
  nonAscii:
    "U2FsdGVkX1+vjg5tRXLD49NUizE4mAX8+Jbr5Gon2ScLelL2MFBNbT7FEjOGwJOmChHsvafuaJEy9M+2hndhNBefAplCzOzog9xwDKw8MyXpxlFLo9qn6fwKVjsTDWjmu3nLnclZIerzlzjXH0dgrrhxys2s34t35pDLZfXixLiDxX7uh6qVKNQiZ/CswM1eCCpHMMF6N0JDAmOsHI1fLwbbnou5N0O5PZRhwNoaYao=",
  // {companyId:"c_456", role:"admin", type:"agency"}
  noUserId:
    "U2FsdGVkX193uaaT1RqOz0GRsZX3KtfpeypmF5KWncGWs8/+6ztRHCpPJlD23+YTzDp4irOQO658w5bqfHLRrt82dXtN2agGjSR8lsQLxbI=",
  // CryptoJS.AES.encrypt("plain text, not json: c_456", "shared-secret-for-tests")
  notJson: "U2FsdGVkX1+/lzWTJVDJ1N2nu6VWrRVLzdFGqxSRvnFWI6TJj2qdkc/XnPOw/NNC",
};

const ada = {
  userId: "u_123",
  companyId: "c_456",
  role: "admin",
  type: "agency",
  userName: "Ada Lovelace",
  email: "ada@example.com",
};

function failure(fn: () => unknown): SsoDecryptError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SsoDecryptError);
    return err as SsoDecryptError;
  }
  throw new Error("expected SsoDecryptError, nothing was thrown");
}

describe("custom-page SSO payload", () => {
  it("decrypts payloads made by crypto-js", () => {
    expect(decryptSsoPayload(CRYPTOJS.location, SECRET)).toEqual({ ...ada, activeLocation: "loc_789" });
    const agency = decryptSsoPayload(CRYPTOJS.agency, SECRET);
    expect(agency).toEqual(ada);
    expect(agency.activeLocation).toBeUndefined();
    expect(decryptSsoPayload(CRYPTOJS.nonAscii, SECRET)).toEqual({
      userId: "u_124",
      companyId: "c_456",
      role: "user",
      type: "account",
      userName: "Zoë Ünal 日本",
      email: "zoe@example.com",
      activeLocation: "loc_789",
    });
  });

  it("refuses the wrong secret without revealing either secret", () => {
    const wrong = "not-the-shared-secret";
    for (const payload of Object.values(CRYPTOJS)) {
      const err = failure(() => decryptSsoPayload(payload, wrong));
      expect(err.message).not.toContain(wrong);
      expect(err.message).not.toContain(SECRET);
    }
  });

  it("refuses a tampered or truncated payload", () => {
    const raw = Buffer.from(CRYPTOJS.location, "base64");
    const tampered = Buffer.from(raw);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    failure(() => decryptSsoPayload(tampered.toString("base64"), SECRET));
    failure(() => decryptSsoPayload(raw.subarray(0, raw.length - 16).toString("base64"), SECRET));
    failure(() => decryptSsoPayload(raw.subarray(0, raw.length - 5).toString("base64"), SECRET));
    failure(() => decryptSsoPayload(raw.subarray(0, 16).toString("base64"), SECRET));
  });

  it("refuses input that is not the Salted__ format", () => {
    const renamed = Buffer.from(CRYPTOJS.location, "base64");
    renamed.write("Peppered", 0);
    failure(() => decryptSsoPayload(renamed.toString("base64"), SECRET));
    failure(() => decryptSsoPayload(Buffer.from("Peppered" + "x".repeat(40)).toString("base64"), SECRET));
    failure(() => decryptSsoPayload("not base64 at all!", SECRET));
    failure(() => decryptSsoPayload("", SECRET));
  });

  it("names a missing field without echoing the decrypted data", () => {
    const err = failure(() => decryptSsoPayload(CRYPTOJS.noUserId, SECRET));
    expect(err.message).toMatch(/userId/);
    expect(err.message).not.toMatch(/companyId/);
    expect(err.message).not.toContain("c_456");
    expect(err.message).not.toContain(SECRET);
  });

  it("refuses encrypted text that is not JSON, without quoting it", () => {
    const err = failure(() => decryptSsoPayload(CRYPTOJS.notJson, SECRET));
    expect(err.message).toMatch(/JSON/);
    expect(err.message).not.toContain("plain text");
    expect(err.message).not.toContain("c_456");
  });

  it("encrypts in the same format it decrypts, with a fresh salt each time", () => {
    const user = { ...ada, activeLocation: "loc_789", extra: 1 };
    const a = encryptSsoPayload(user, SECRET);
    const b = encryptSsoPayload(user, SECRET);
    expect(a).not.toBe(b);
    expect(Buffer.from(a, "base64").subarray(0, 8).toString()).toBe("Salted__");
    expect(decryptSsoPayload(a, SECRET)).toEqual({ ...ada, activeLocation: "loc_789" });
    expect(decryptSsoPayload(b, SECRET)).toEqual({ ...ada, activeLocation: "loc_789" });
  });
});
