import crypto from "node:crypto";
import { SessionSigner, sessionCookie } from "../src/auth/session-cookie";

/**
 * The console's and the custom page's sessions: a signed cookie is the only thing that says who is
 * signed in, so a changed, expired or borrowed one must be worth nothing.
 */
const SECRET = crypto.randomBytes(32);
const console_ = new SessionSigner(SECRET, "console", 3600);

afterEach(() => jest.restoreAllMocks());

describe("a signed session", () => {
  it("gives back its claims, with an expiry one lifetime from now", () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = console_.verify<{ key: string; zone: string }>(console_.sign({ key: "k-1", zone: "Europe/Paris" }));
    expect(claims).toMatchObject({ key: "k-1", zone: "Europe/Paris" });
    expect(claims!.exp).toBeGreaterThanOrEqual(now + 3600);
    expect(claims!.exp).toBeLessThanOrEqual(now + 3601);
    expect(console_.maxAgeMs).toBe(3_600_000);
  });

  it("is worth nothing once it has expired", () => {
    const token = console_.sign({ key: "k-1" });
    const exp = console_.verify<{ key: string }>(token)!.exp;
    jest.spyOn(Date, "now").mockReturnValue(exp * 1000 - 1);
    expect(console_.verify(token)).toBeDefined();
    jest.spyOn(Date, "now").mockReturnValue(exp * 1000);
    expect(console_.verify(token)).toBeUndefined();
  });

  it("is worth nothing when its claims or its signature were changed", () => {
    const token = console_.sign({ key: "k-1" });
    const [body, mac] = token.split(".") as [string, string];
    const claims = JSON.parse(Buffer.from(body, "base64url").toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, key: "k-admin" })).toString("base64url");
    expect(console_.verify(`${forged}.${mac}`)).toBeUndefined();
    const flipped = Buffer.from(mac, "base64url");
    flipped[0] = flipped[0]! ^ 1;
    expect(console_.verify(`${body}.${flipped.toString("base64url")}`)).toBeUndefined();
    expect(console_.verify(`${body}.${mac.slice(0, -4)}`)).toBeUndefined();
    expect(console_.verify(`${body}.`)).toBeUndefined();
    expect(console_.verify(`.${mac}`)).toBeUndefined();
    expect(console_.verify(body)).toBeUndefined();
    expect(console_.verify(undefined)).toBeUndefined();
    expect(console_.verify(["a", "b"])).toBeUndefined();
  });

  it("from one purpose or one server secret never passes for another", () => {
    const token = console_.sign({ key: "k-1" });
    expect(new SessionSigner(SECRET, "custom-page", 3600).verify(token)).toBeUndefined();
    expect(new SessionSigner(crypto.randomBytes(32), "console", 3600).verify(token)).toBeUndefined();
    expect(new SessionSigner(SECRET, "console", 60).verify(token)).toMatchObject({ key: "k-1" });
  });
});

describe("the session cookie", () => {
  it("inside HighLevel's frame over https: SameSite=None, Secure, Partitioned", () => {
    expect(sessionCookie("https://app.example.com", 60_000, "/custom-page", { framed: true })).toEqual({
      httpOnly: true,
      path: "/custom-page",
      maxAge: 60_000,
      secure: true,
      sameSite: "none",
      partitioned: true,
    });
  });

  it("over plain http (the demo) or on a page never framed: SameSite=Lax, Secure only over https", () => {
    expect(sessionCookie("http://127.0.0.1:3000", 60_000, "/custom-page", { framed: true })).toEqual({
      httpOnly: true,
      path: "/custom-page",
      maxAge: 60_000,
      secure: false,
      sameSite: "lax",
    });
    expect(sessionCookie("https://app.example.com", 1_000, "/console", { framed: false })).toEqual({
      httpOnly: true,
      path: "/console",
      maxAge: 1_000,
      secure: true,
      sameSite: "lax",
    });
  });
});
