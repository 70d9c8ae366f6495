import { setTimeout as sleep } from "node:timers/promises";
import request from "supertest";
import { createApp } from "../src/app";
import { AUTH_THROTTLE } from "../src/auth/throttle";
import { createLogger } from "../src/logger";
import { createServices } from "../src/services";
import { encryptSsoPayload } from "../sandbox/sso-payload";
import { LogCapture, TEST_API_KEY, startHarness, type Harness } from "./support/harness";
import { SOLO } from "./support/sandbox-fixtures";

const LIMIT = AUTH_THROTTLE.limit;
const SSO_KEY = "shared-secret-of-the-test-app";
const USER = { userId: "u-1", companyId: "agency-2", role: "user", type: "account", activeLocation: "loc-solo" };

let h: Harness;
afterEach(() => h?.close());

const call = (app: Harness["app"], key: string, from?: string) => {
  const req = request(app).get("/api/installations").auth(key, { type: "bearer" });
  return from ? req.set("X-Forwarded-For", from) : req;
};
const wrongKey = (from?: string, app = h.app) => call(app, "hlbs_not-a-key", from);
const goodKey = (from?: string, app = h.app) => call(app, TEST_API_KEY, from);

async function failTimes(n: number, attempt: (i: number) => request.Test, status: number) {
  for (let i = 0; i < n; i++) await attempt(i).expect(status);
}

function expectTooMany(res: request.Response, windowSeconds = AUTH_THROTTLE.windowMs / 1000) {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers["retry-after"]);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
}

describe("failed API keys are throttled per client address", () => {
  beforeEach(async () => {
    // Behind a proxy on this machine, named as trusted: the address it forwards is the client's.
    h = await startHarness({ env: { TRUST_PROXY: "loopback" } });
  });

  it(`after ${LIMIT} failures answers 429 too_many_attempts with Retry-After, even to a good key`, async () => {
    await failTimes(LIMIT, () => wrongKey(), 401);
    const refused = await wrongKey();
    expectTooMany(refused);
    expect(refused.headers["content-type"]).toContain("application/problem+json");
    expect(refused.body).toMatchObject({
      code: "too_many_attempts",
      detail: "Too many failed authentication attempts from your address. Try again in 5 minutes.",
    });
    expectTooMany(await goodKey());
  });

  it("another address is not refused", async () => {
    await failTimes(LIMIT, () => wrongKey("203.0.113.7"), 401);
    expectTooMany(await wrongKey("203.0.113.7"));
    await wrongKey("203.0.113.8").expect(401);
    await goodKey("198.51.100.1").expect(200);
  });

  it("an IPv6 client is counted by its /64, so it cannot walk through its own addresses", async () => {
    await failTimes(LIMIT, (i) => wrongKey(`2001:db8:1:2::${(i + 1).toString(16)}`), 401);
    expectTooMany(await wrongKey("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    await wrongKey("2001:db8:1:3::1").expect(401);
  });

  it("successful calls write nothing and count for nothing", async () => {
    for (let i = 0; i < 2 * LIMIT; i++) await goodKey().expect(200);
    expect(await h.db.authFailure.count()).toBe(0);
    await failTimes(LIMIT, () => wrongKey(), 401);
  });

  it("counts failures across processes; another process learns of a block at its next failure", async () => {
    const services = createServices(h.config, h.db, createLogger("silent", new LogCapture()), h.databaseUrl);
    const other = createApp(services);
    try {
      await failTimes(LIMIT / 2, () => wrongKey(undefined, other), 401);
      await failTimes(LIMIT / 2, () => wrongKey(undefined, h.app), 401);
      expectTooMany(await goodKey());
      expectTooMany(await wrongKey(undefined, other));
      expectTooMany(await goodKey(undefined, other));
    } finally {
      await services.close();
    }
  });
});

describe("the client address cannot be forged", () => {
  it("X-Forwarded-For from a client that is not a trusted proxy is ignored", async () => {
    h = await startHarness({ env: { TRUST_PROXY: "10.0.0.0/8" } });
    await failTimes(LIMIT, (i) => wrongKey(`198.51.100.${i + 1}`), 401);
    expectTooMany(await wrongKey("198.51.100.200"));
  });

  it("with TRUST_PROXY unset no proxy is believed, not even one on this machine", async () => {
    h = await startHarness();
    await failTimes(LIMIT, (i) => wrongKey(`198.51.100.${i + 1}`), 401);
    expectTooMany(await wrongKey("198.51.100.200"));
  });
});

describe("the window", () => {
  beforeEach(async () => {
    h = await startHarness({ throttle: { limit: 3, windowMs: 1500 } });
  });

  it("ends: the address may try again, and its count can be purged", async () => {
    await failTimes(3, () => wrongKey(), 401);
    const refused = await goodKey();
    expectTooMany(refused, 2);
    expect(refused.body.detail).toMatch(/Try again in a minute\.$/);
    await sleep(1600);
    await goodKey().expect(200);
    expect(await h.services.authThrottle.purge(100)).toBe(1);
    expect(await h.db.authFailure.count()).toBe(0);
    await failTimes(3, () => wrongKey(), 401);
  });
});

describe("the addresses one process remembers as blocked", () => {
  beforeEach(async () => {
    h = await startHarness({
      throttle: { limit: 1, windowMs: 60_000, maxBlocked: 2 },
      env: { TRUST_PROXY: "loopback" },
    });
  });

  it("are bounded: past the bound the oldest is forgotten, and blocked again at its next failure", async () => {
    for (const address of ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) await wrongKey(address).expect(401);
    // The first was dropped to make room; the two others are still refused without a query.
    await goodKey("203.0.113.1").expect(200);
    expectTooMany(await goodKey("203.0.113.2"), 60);
    expectTooMany(await goodKey("203.0.113.3"), 60);
    // Its count is still in PostgreSQL: one more failure and it is refused again.
    expectTooMany(await wrongKey("203.0.113.1"), 60);
    expectTooMany(await goodKey("203.0.113.1"), 60);
  });
});

describe("console sign-in", () => {
  beforeEach(async () => {
    h = await startHarness();
  });
  const signIn = (key: string) => request(h.app).post("/console/login").type("form").send({ key });

  it(`after ${LIMIT} wrong keys answers the login page with 429 and Retry-After, and signs nobody in`, async () => {
    await failTimes(LIMIT, () => signIn("not-a-key"), 401);
    const res = await signIn(TEST_API_KEY);
    expectTooMany(res);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.text).toContain("Too many failed authentication attempts");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });
});

describe("custom-page sign-in", () => {
  beforeEach(async () => {
    h = await startHarness({ env: { HIGHLEVEL_SSO_KEY: SSO_KEY } });
  });
  const session = (secret: string) =>
    request(h.app)
      .post("/app/session")
      .send({ payload: encryptSsoPayload(USER, secret) });

  it(`after ${LIMIT} payloads that do not verify answers 429 too_many_attempts`, async () => {
    await failTimes(LIMIT, () => session("another-secret"), 401);
    const res = await session(SSO_KEY);
    expectTooMany(res);
    expect(res.body.code).toBe("too_many_attempts");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });
});

describe("OAuth callbacks", () => {
  beforeEach(async () => {
    h = await startHarness({ sandbox: { companies: [SOLO] } });
  });
  const callback = (query: Record<string, string>) => request(h.app).get("/oauth/callback").query(query);

  it(`after ${LIMIT} refused codes or states answers a 429 page without asking HighLevel`, async () => {
    await failTimes(LIMIT / 2, (i) => callback({ code: `never-issued-${i}` }), 502);
    await failTimes(LIMIT / 2, (i) => callback({ code: `code-${i}`, state: `forged-${i}` }), 400);
    const exchanges = h.sandbox.state.count("POST", "/oauth/token");
    const res = await callback({ code: h.sandbox.state.issueCode({ locationId: "loc-solo" }) });
    expectTooMany(res);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.text).toContain("Too many failed authentication attempts");
    expect(h.sandbox.state.count("POST", "/oauth/token")).toBe(exchanges);
    expect(await h.db.location.count()).toBe(0);
  });

  it("a declined consent is not a failed authentication", async () => {
    await failTimes(LIMIT + 5, () => callback({ error: "access_denied" }), 400);
    await callback({ code: h.sandbox.state.issueCode({ locationId: "loc-solo" }) }).expect(200);
  });
});
