import request from "supertest";
import { Client } from "pg";
import { finishInstall, installCompany, installIdOf, progressOf } from "./support/api";
import { TEST_API_KEY, startHarness, type Harness } from "./support/harness";
import { AGENCY, SOLO } from "./support/sandbox-fixtures";

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ sandbox: { companies: [AGENCY, SOLO] } });
});
afterEach(() => h.close());

/** Starts an install the way a browser does and returns the `state` we put on the consent URL. */
async function beginInstall(): Promise<{ consent: URL; state: string }> {
  const res = await request(h.app).get("/oauth/install").expect(302);
  const consent = new URL(res.headers.location as string);
  return { consent, state: consent.searchParams.get("state") ?? "" };
}

async function rawRows(sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: h.databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("install from the marketplace", () => {
  it("sends the user to HighLevel's consent page with our client, redirect URI, scopes and state", async () => {
    const { consent, state } = await beginInstall();
    expect(`${consent.origin}${consent.pathname}`).toBe(`${h.sandbox.url}/v2/oauth/chooselocation`);
    expect(consent.searchParams.get("response_type")).toBe("code");
    expect(consent.searchParams.get("client_id")).toBe(h.config.HIGHLEVEL_CLIENT_ID);
    expect(consent.searchParams.get("redirect_uri")).toBe("http://127.0.0.1:3999/oauth/callback");
    expect(consent.searchParams.get("scope")).toBe(h.config.HIGHLEVEL_SCOPES);
    expect(state.length).toBeGreaterThanOrEqual(20);
  });

  it("installs an agency through HighLevel's consent page, as a browser would", async () => {
    const { consent } = await beginInstall();
    const page = await request(consent.origin)
      .get(consent.pathname + consent.search)
      .expect(200);
    expect(page.text).toContain("Bright Smiles Group");
    const approved = await request(consent.origin)
      .post(consent.pathname + consent.search)
      .type("form")
      .send({ target: "company:agency-1", decision: "allow" })
      .expect(302);
    const back = new URL(approved.headers.location as string);
    expect(`${back.origin}${back.pathname}`).toBe(h.config.redirectUri);

    const result = await request(h.app).get(`/oauth/callback${back.search}`).expect(200);
    expect(result.text).toContain("Connecting your agency&#39;s sub-accounts");
    const done = await finishInstall(h, installIdOf(result.text));
    expect(done.headline).toBe("Agency installed, with some sub-accounts not connected");
    expect(await h.db.location.count({ where: { status: "active" } })).toBe(2);
  });

  it("shows a clear page when the user cancels on the consent page", async () => {
    const { consent } = await beginInstall();
    const cancelled = await request(consent.origin)
      .post(consent.pathname + consent.search)
      .type("form")
      .send({ decision: "cancel" })
      .expect(302);
    const back = new URL(cancelled.headers.location as string);
    const res = await request(h.app).get(`/oauth/callback${back.search}`).expect(400);
    expect(res.text).toContain("Install cancelled");
    // A choice the user made, not a failure: not shown as an error.
    expect(res.text).toContain('<section class="panel">');
    expect(res.text).not.toContain("panel bad");
    expect(await h.db.location.count()).toBe(0);
  });

  it("installs a sub-account end to end and stores its tokens encrypted", async () => {
    const { state } = await beginInstall();
    const code = h.sandbox.state.issueCode({ locationId: "loc-solo" });
    const res = await request(h.app).get("/oauth/callback").query({ code, state }).expect(200);
    expect(res.text).toContain("Sub-account installed");
    // Named on the page, from HighLevel's location record.
    expect(res.text).toContain("Solo Clinic is connected.");
    expect(res.text).toContain("loc-solo");

    const location = await h.db.location.findUniqueOrThrow({ where: { id: "loc-solo" } });
    expect(location).toMatchObject({ status: "active", source: "direct", companyId: "agency-2" });
    expect(location.tokenExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);

    const tokens = await h.services.tokens.locationTokens("loc-solo");
    expect(tokens?.accessToken).toBeTruthy();
    expect(tokens?.refreshToken).toBeTruthy();
    // A dump of the table holds neither token in plain text.
    const dump = JSON.stringify(await rawRows("SELECT * FROM locations"));
    expect(dump).not.toContain(tokens!.accessToken!);
    expect(dump).not.toContain(tokens!.refreshToken!);

    // The exchange was what HighLevel documents: form-encoded, with user_type and redirect_uri.
    const exchange = h.sandbox.state.requests.find((r) => r.path === "/oauth/token");
    expect(exchange).toMatchObject({ valid: true });
    expect(String(exchange!.headers["content-type"])).toContain("application/x-www-form-urlencoded");
    expect(exchange!.body).toMatchObject({
      grant_type: "authorization_code",
      code,
      user_type: "Location",
      redirect_uri: h.config.redirectUri,
    });
  });

  it("installs an agency: every installed location gets a token, a failing one is recorded without failing the others", async () => {
    const { state } = await beginInstall();
    const code = h.sandbox.state.issueCode({ companyId: "agency-1" });
    const res = await request(h.app).get("/oauth/callback").query({ code, state }).expect(200);
    const installId = installIdOf(res.text);
    await finishInstall(h, installId);
    const page = await request(h.app).get(`/oauth/installs/${installId}`).expect(200);
    expect(page.text).toContain("Agency installed, with some sub-accounts not connected");
    expect(page.text).toMatch(/2 sub-accounts connected; 1 sub-account could not be connected/);
    expect(page.text).toContain("Location is not active");
    expect(page.text).toContain("Bright Smiles Downtown");

    const company = await h.db.company.findUniqueOrThrow({ where: { id: "agency-1" } });
    expect(company.status).toBe("active");
    const locations = await h.db.location.findMany({ orderBy: { id: "asc" } });
    expect(locations.map((l) => [l.id, l.status, l.source, l.name])).toEqual([
      ["loc-a", "active", "agency", "Bright Smiles Downtown"],
      ["loc-b", "active", "agency", "Bright Smiles Uptown"],
      ["loc-c", "failed", "agency", "Bright Smiles Airport"],
    ]);
    expect(locations[2]!.lastError).toMatch(/Location is not active/);
    expect(locations[2]!.accessTokenEnc).toBeNull();
    expect(h.sandbox.state.invalidRequests()).toEqual([]);
  });

  it("reads every page of an agency's installed locations", async () => {
    const big = {
      id: "agency-big",
      name: "Big Agency",
      locations: Array.from({ length: 130 }, (_, i) => ({
        id: `big-${String(i).padStart(3, "0")}`,
        name: `Clinic ${i}`,
      })),
    };
    await h.close();
    // A generous rate limit: this test is about pages, not pacing. No approvedLocations: the app must
    // list, in pages of at most 50 whatever it asks (a short page is not the last).
    h = await startHarness({
      sandbox: {
        companies: [big],
        rateLimit: { burst: 10_000 },
        approvedLocations: false,
        installedLocationsPageCap: 50,
      },
    });
    const code = h.sandbox.state.issueCode({ companyId: "agency-big" });
    const res = await request(h.app).get("/oauth/callback").query({ code }).expect(200);
    expect(res.text).toContain("Installing for your agency");
    expect(h.sandbox.state.count("GET", "/oauth/installedLocations")).toBe(0);
    const done = await finishInstall(h, installIdOf(res.text));
    expect(done.counts).toEqual({ total: 130, connected: 130, failed: 0, connecting: 0 });
    expect(await h.db.location.count({ where: { status: "active", companyId: "agency-big" } })).toBe(130);
    expect(h.sandbox.state.count("GET", "/oauth/installedLocations")).toBeGreaterThanOrEqual(3);
    // 130 mints at the agency's pace (100 per 11 s) take a little over 11 s.
  }, 60_000);

  it("waits out HighLevel's rate limit while minting an agency's location tokens", async () => {
    await h.close();
    h = await startHarness({
      sandbox: {
        companies: [SOLO, { ...AGENCY, locations: AGENCY.locations.slice(0, 2) }],
        rateLimit: { burst: 1, intervalMs: 1000 },
      },
      jobs: true,
    });
    const code = h.sandbox.state.issueCode({ companyId: "agency-1" });
    const res = await request(h.app).get("/oauth/callback").query({ code }).expect(200);
    const installId = installIdOf(res.text);
    for (let i = 0; i < 200 && (await progressOf(h, installId)).live; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await h.db.location.count({ where: { status: "active" } })).toBe(2);
    // Refused once for the agency's limit, then minted when HighLevel allowed: no failure, no second mint.
    expect(h.sandbox.state.requests.some((r) => r.path === "/oauth/locationToken" && r.status === 429)).toBe(true);
    expect(h.sandbox.state.mintCount()).toBe(2);
  });

  it("accepts an install started from the marketplace listing, which carries no state of ours", async () => {
    const code = h.sandbox.state.issueCode({ locationId: "loc-solo" });
    await request(h.app).get("/oauth/callback").query({ code }).expect(200);
    expect(await h.db.location.count()).toBe(1);
  });

  it("reinstalling replaces the tokens and never duplicates rows", async () => {
    const first = h.sandbox.state.issueCode({ locationId: "loc-solo" });
    await request(h.app).get("/oauth/callback").query({ code: first }).expect(200);
    const before = await h.services.tokens.locationTokens("loc-solo");

    const second = h.sandbox.state.issueCode({ locationId: "loc-solo" });
    await request(h.app).get("/oauth/callback").query({ code: second }).expect(200);
    const after = await h.services.tokens.locationTokens("loc-solo");
    expect(after!.accessToken).not.toBe(before!.accessToken);
    expect(await h.db.location.count()).toBe(1);

    for (let i = 0; i < 2; i++) await installCompany(h, "agency-1");
    expect(await h.db.company.count()).toBe(1);
    expect(await h.db.location.count()).toBe(4);
  });

  it("an agency reinstall keeps the tokens of a sub-account HighLevel called inactive: they work again later", async () => {
    await installCompany(h, "agency-1");
    await h.db.location.update({
      where: { id: "loc-a" },
      data: { status: "inactive", lastError: "Location is not active" },
    });
    const before = await h.services.tokens.locationTokens("loc-a");
    const mints = h.sandbox.state.mintCount();
    await installCompany(h, "agency-1");
    const after = await h.db.location.findUniqueOrThrow({ where: { id: "loc-a" } });
    expect(after.status).toBe("inactive");
    expect((await h.services.tokens.locationTokens("loc-a"))!.refreshToken).toBe(before!.refreshToken);
    // Its neighbours, active with tokens, are not minted again either.
    expect(h.sandbox.state.mintCount()).toBe(mints);
  });
});

describe("install failures: a clear page, the right status, nothing stored", () => {
  async function expectNothingStored() {
    expect(await h.db.location.count()).toBe(0);
    expect(await h.db.company.count()).toBe(0);
  }

  it("refuses a forged state without exchanging the code", async () => {
    await beginInstall();
    const code = h.sandbox.state.issueCode({ locationId: "loc-solo" });
    const res = await request(h.app).get("/oauth/callback").query({ code, state: "forged-state-value" }).expect(400);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.text).toContain("not issued by this app");
    expect(h.sandbox.state.count("POST", "/oauth/token")).toBe(0);
    await expectNothingStored();
  });

  it("refuses a state that was already used", async () => {
    const { state } = await beginInstall();
    await request(h.app)
      .get("/oauth/callback")
      .query({ code: h.sandbox.state.issueCode({ locationId: "loc-solo" }), state })
      .expect(200);
    await request(h.app)
      .get("/oauth/callback")
      .query({ code: h.sandbox.state.issueCode({ locationId: "loc-a" }), state })
      .expect(400);
  });

  it("explains a callback without a code", async () => {
    const res = await request(h.app).get("/oauth/callback").expect(400);
    expect(res.text).toContain("No authorization code");
    await expectNothingStored();
  });

  it("explains a declined consent", async () => {
    const res = await request(h.app)
      .get("/oauth/callback")
      .query({ error: "access_denied", error_description: "The user denied access" })
      .expect(400);
    expect(res.text).toContain("Install cancelled");
    await expectNothingStored();
  });

  it("/oauth/install given a code starts nothing and exchanges nothing: only the callback takes codes", async () => {
    const code = h.sandbox.state.issueCode({ locationId: "loc-solo" });
    const res = await request(h.app).get("/oauth/install").query({ code }).expect(400);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.text).toContain("This address starts an install");
    expect(res.text).toContain("http://127.0.0.1:3999/oauth/callback");
    expect(h.sandbox.state.count("POST", "/oauth/token")).toBe(0);
    await expectNothingStored();
    // The code is still good where it belongs.
    await request(h.app).get("/oauth/callback").query({ code }).expect(200);
  });

  it("shows its own words for HighLevel's error, never the query's, and logs what was sent", async () => {
    const description = "Your account is suspended: call +1 555 0100 to restore it";
    for (const error of ["invalid_scope", "constructor", "<b>bold</b>"]) {
      const res = await request(h.app)
        .get("/oauth/callback")
        .query({ error, error_description: description })
        .expect(400);
      expect(res.text).toContain("nothing was connected");
      expect(res.text).not.toContain("555 0100");
      expect(res.text).not.toContain(error);
    }
    expect(h.logs.text).toContain('"errorDescription":"Your account is suspended: call +1 555 0100 to restore it"');
    expect(h.logs.text).toContain('"error":"invalid_scope"');
    await expectNothingStored();
  });

  it("answers 502 when HighLevel refuses the exchange", async () => {
    const res = await request(h.app)
      .get("/oauth/callback")
      .query({ code: "a-code-highlevel-never-issued" })
      .expect(502);
    expect(res.text).toContain("HighLevel did not complete the install");
    await expectNothingStored();
  });

  it("answers 502 when a code is used twice", async () => {
    const code = h.sandbox.state.issueCode({ locationId: "loc-solo" });
    await request(h.app).get("/oauth/callback").query({ code }).expect(200);
    await h.db.location.deleteMany();
    await request(h.app).get("/oauth/callback").query({ code }).expect(502);
    await expectNothingStored();
  });

  it("answers 502 when HighLevel is unreachable", async () => {
    await h.close();
    h = await startHarness({ sandbox: { companies: [SOLO] }, env: { HIGHLEVEL_API_URL: "http://127.0.0.1:9" } });
    const code = h.sandbox.state.issueCode({ locationId: "loc-solo" });
    const res = await request(h.app).get("/oauth/callback").query({ code }).expect(502);
    expect(res.text).toContain("did not answer");
    await expectNothingStored();
  });
});

describe("secrets stay out of logs", () => {
  it("logs no token, code or client secret during installs", async () => {
    const codes = [
      h.sandbox.state.issueCode({ locationId: "loc-solo" }),
      h.sandbox.state.issueCode({ companyId: "agency-1" }),
    ];
    for (const code of codes) {
      const page = await request(h.app).get("/oauth/callback").query({ code }).expect(200);
      await finishInstall(h, installIdOf(page.text));
    }
    await request(h.app).get("/oauth/callback").query({ code: "bogus-code-123" }).expect(502);

    const secrets = [...codes, "bogus-code-123", h.config.HIGHLEVEL_CLIENT_SECRET];
    for (const id of ["loc-solo", "loc-a", "loc-b"]) {
      const t = await h.services.tokens.locationTokens(id);
      secrets.push(t!.accessToken!, t!.refreshToken!);
    }
    const company = await h.services.tokens.companyTokens("agency-1");
    secrets.push(company!.accessToken!, company!.refreshToken!);

    expect(h.logs.lines.length).toBeGreaterThan(3);
    for (const secret of secrets) expect(h.logs.text).not.toContain(secret);
  });
});

describe("service routes", () => {
  it("logs each request once, by its X-Request-Id, without the secrets in its URL", async () => {
    await request(h.app)
      .get("/oauth/callback")
      .query({ code: "bogus-code-456" })
      .set("X-Request-Id", "req-abc")
      .expect(502)
      .expect("X-Request-Id", "req-abc");
    const lines = () =>
      h.logs.lines.map((l) => JSON.parse(l)).filter((r) => r.req?.id === "req-abc" && r.responseTime !== undefined);
    // The line is written when the connection's response closes, just after the client has it.
    for (let i = 0; i < 50 && lines().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 50,
        msg: "request errored",
        req: { id: "req-abc", method: "GET", url: "/oauth/callback?code=[Redacted]" },
        res: { statusCode: 502 },
        responseTime: expect.any(Number),
      }),
    ]);
    expect(h.logs.text).not.toContain("bogus-code-456");
    // What a route logs about the request carries the same id.
    expect(h.logs.lines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ reqId: "req-abc", msg: "install failed at HighLevel" }),
    );

    const fresh = await request(h.app).get("/healthz").expect(200);
    expect(fresh.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("reports liveness and readiness", async () => {
    await request(h.app).get("/healthz").expect(200);
    await request(h.app).get("/readyz").expect(200, { status: "ready" });
  });

  it("answers unknown API routes with problem+json", async () => {
    const res = await request(h.app).get("/api/nothing-here").auth(TEST_API_KEY, { type: "bearer" }).expect(404);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body).toMatchObject({
      status: 404,
      code: "not_found",
      title: expect.any(String),
      detail: expect.any(String),
    });
  });

  it("lists installations with status and expiry to API-key holders, never a token", async () => {
    const unauthenticated = await request(h.app).get("/api/installations").expect(401);
    expect(unauthenticated.body).toMatchObject({ code: "unauthorized" });
    await request(h.app).get("/api/installations").auth("wrong-key", { type: "bearer" }).expect(401);

    await installCompany(h, "agency-1");
    const res = await request(h.app).get("/api/installations").auth(TEST_API_KEY, { type: "bearer" }).expect(200);
    expect(res.body.companies).toEqual([
      expect.objectContaining({
        id: "agency-1",
        status: "active",
        tokenExpiresAt: expect.any(String),
        locationCount: 3,
      }),
    ]);
    expect(res.body.locations).toEqual([
      expect.objectContaining({ id: "loc-a", companyId: "agency-1", source: "agency", status: "active" }),
      expect.objectContaining({ id: "loc-b", status: "active" }),
      expect.objectContaining({ id: "loc-c", status: "failed", lastError: expect.stringMatching(/not active/) }),
    ]);
    const company = await h.services.tokens.companyTokens("agency-1");
    expect(res.text).not.toContain(company!.accessToken!);
    expect(res.text).not.toMatch(/token_enc|TokenEnc|refresh/i);
  });

  it("shows the landing page with the install button and the connected count", async () => {
    await installCompany(h, "agency-1");
    const res = await request(h.app).get("/").expect(200);
    expect(res.text).toContain('href="/oauth/install"');
    expect(res.text).toMatch(/<strong>2<\/strong> locations are connected/);
  });
});
