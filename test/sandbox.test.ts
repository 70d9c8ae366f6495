/** The sandbox's OAuth side: code exchange, refresh, agency endpoints, consent page, OpenAPI loading. */
import request from "supertest";
import {
  OAUTH,
  AGENCY,
  SOLO,
  SLOT,
  tokenRequest,
  exchange,
  locationToken,
  companyToken,
  createSlot,
  sandboxesFor,
} from "./support/sandbox-fixtures";
import { getValidator, type Sandbox, type SandboxCompany } from "../sandbox";

const BIG: SandboxCompany = {
  id: "agency-big",
  name: "Big Agency",
  locations: Array.from({ length: 45 }, (_, i) => ({ id: `big-${i}`, name: `Clinic ${i}` })),
};

let sb: Sandbox;
const sandbox = sandboxesFor([AGENCY, SOLO, BIG]);
beforeEach(async () => {
  sb = await sandbox();
});

describe("authorization code exchange", () => {
  it("a location install returns a Location token; the code is single use", async () => {
    const code = sb.state.issueCode({ locationId: "loc-a" });
    const body = await exchange(sb, code);
    expect(body).toMatchObject({
      token_type: "Bearer",
      expires_in: 86399,
      userType: "Location",
      locationId: "loc-a",
      companyId: "agency-1",
    });
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(body.userId).toEqual(expect.any(String));
    expect(String(body.scope)).toContain("calendars/events.write");

    const again = await tokenRequest(sb, { grant_type: "authorization_code", code }).expect(400);
    expect(again.body).toEqual({ statusCode: 400, message: "Invalid grant: authorization code is invalid" });
    expect(sb.state.invalidRequests()).toEqual([]);
  });

  it("an agency install returns a Company (bulk) token even when user_type=Location is asked", async () => {
    const body = await exchange(sb, sb.state.issueCode({ companyId: "agency-1" }), "Location");
    expect(body).toMatchObject({
      userType: "Company",
      companyId: "agency-1",
      isBulkInstallation: true,
      approvedLocations: ["loc-a", "loc-b", "loc-c"],
    });
    expect(body.locationId).toBeUndefined();
  });

  it("refuses wrong client credentials", async () => {
    const res = await tokenRequest(sb, { client_secret: "nope", grant_type: "authorization_code", code: "x" }).expect(
      401,
    );
    expect(res.body.message).toMatch(/Invalid client/);
    expect(sb.state.invalidRequests()).toHaveLength(1);
  });
});

describe("refresh tokens", () => {
  it("are single use: a new pair each time, reuse answers invalid grant", async () => {
    const first = await exchange(sb, sb.state.issueCode({ locationId: "loc-a" }));
    const second = await tokenRequest(sb, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
      user_type: "Location",
    }).expect(200);
    expect(second.body.access_token).not.toBe(first.access_token);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body).toMatchObject({ userType: "Location", locationId: "loc-a" });

    const reuse = await tokenRequest(sb, { grant_type: "refresh_token", refresh_token: first.refresh_token }).expect(
      400,
    );
    expect(reuse.body).toEqual({ statusCode: 400, message: "Invalid grant: refresh token is invalid" });
    await tokenRequest(sb, { grant_type: "refresh_token", refresh_token: second.body.refresh_token }).expect(200);
    expect(sb.state.refreshCount("loc-a")).toBe(3);
    expect(sb.state.refreshCount("loc-b")).toBe(0);
  });

  it("'Location is not active' is temporary; revoked tokens answer invalid grant", async () => {
    const { refresh_token } = await exchange(sb, sb.state.issueCode({ locationId: "loc-b" }));
    sb.state.setLocationInactive("loc-b", true);
    const inactive = await tokenRequest(sb, { grant_type: "refresh_token", refresh_token }).expect(400);
    expect(inactive.body).toEqual({ statusCode: 400, message: "Location is not active" });
    sb.state.setLocationInactive("loc-b", false);
    const ok = await tokenRequest(sb, { grant_type: "refresh_token", refresh_token }).expect(200);

    sb.state.revokeRefreshTokensFor("loc-b");
    const revoked = await tokenRequest(sb, {
      grant_type: "refresh_token",
      refresh_token: ok.body.refresh_token,
    }).expect(400);
    expect(revoked.body.message).toBe("Invalid grant: refresh token is invalid");
  });
});

describe("agency endpoints", () => {
  it("installedLocations pages with skip/limit (default limit 20)", async () => {
    const token = await companyToken(sb, "agency-big");
    const page = (skip?: number) =>
      request(sb.url)
        .get("/oauth/installedLocations")
        .query({
          companyId: "agency-big",
          appId: "sandbox",
          isInstalled: true,
          ...(skip === undefined ? {} : { skip }),
        })
        .set("Authorization", `Bearer ${token}`)
        .set("Version", OAUTH)
        .expect(200);
    const pages = [await page(), await page(20), await page(40)];
    expect(pages.map((p) => p.body.locations.length)).toEqual([20, 20, 5]);
    expect(pages[0]!.body.count).toBe(45);
    expect(pages[0]!.body.locations[0]).toMatchObject({
      _id: "big-0",
      name: "Clinic 0",
      isInstalled: true,
      installedAt: expect.any(String),
    });
    expect(pages[0]!.headers["x-ratelimit-max"]).toBe("100");
    expect(pages[2]!.headers["x-ratelimit-remaining"]).toBe("97");
    expect(sb.state.invalidRequests()).toEqual([]);
  });

  it("mints location tokens from a Company token, honouring mintError and ownership", async () => {
    const token = await companyToken(sb, "agency-1");
    const mint = (companyId: string, locationId: string) =>
      request(sb.url)
        .post("/oauth/locationToken")
        .set("Authorization", `Bearer ${token}`)
        .set("Version", OAUTH)
        .type("form")
        .send({ companyId, locationId });

    const ok = await mint("agency-1", "loc-a").expect(200);
    expect(ok.body).toMatchObject({
      token_type: "Bearer",
      locationId: "loc-a",
      refresh_token: expect.any(String),
      userId: expect.any(String),
    });
    await createSlot(sb, ok.body.access_token, SLOT).expect(201);

    const failing = await mint("agency-1", "loc-c").expect(400);
    expect(failing.body).toEqual({ statusCode: 400, message: "Location is not active" });
    expect(sb.state.invalidRequests()).toEqual([]);

    await mint("agency-1", "loc-solo").expect(403);
    expect(sb.state.invalidRequests()).toHaveLength(1);
  });

  it("older locationToken answers carry no refresh_token when configured so", async () => {
    const s = await sandbox({ locationTokensHaveRefreshToken: false });
    const token = await companyToken(s, "agency-1");
    const res = await request(s.url)
      .post("/oauth/locationToken")
      .set("Authorization", `Bearer ${token}`)
      .set("Version", OAUTH)
      .type("form")
      .send({ companyId: "agency-1", locationId: "loc-b" })
      .expect(200);
    expect(res.body.refresh_token).toBeUndefined();
  });

  it("a Location token cannot call agency endpoints", async () => {
    const token = await locationToken(sb, "loc-a");
    await request(sb.url)
      .get("/oauth/installedLocations")
      .query({ companyId: "agency-1", appId: "sandbox" })
      .set("Authorization", `Bearer ${token}`)
      .set("Version", OAUTH)
      .expect(401);
    expect(sb.state.invalidRequests()[0]!.errors[0]).toMatch(/Company token/);
  });
});

describe("consent page", () => {
  const query = (s: Sandbox, extra: Record<string, string> = {}) =>
    new URLSearchParams({
      response_type: "code",
      client_id: s.state.clientId,
      redirect_uri: "http://127.0.0.1:3999/oauth/callback",
      scope: "oauth.write calendars/events.write",
      ...extra,
    }).toString();

  it("lists sub-accounts, agencies and scopes, and redirects with a code that exchanges", async () => {
    const page = await request(sb.url)
      .get(`/v2/oauth/chooselocation?${query(sb, { state: "xyz" })}`)
      .expect(200);
    expect(page.text).toContain("Bright Smiles Uptown");
    expect(page.text).toContain("calendars/events.write");
    const allow = await request(sb.url)
      .post(`/v2/oauth/chooselocation?${query(sb, { state: "xyz" })}`)
      .type("form")
      .send({ target: "company:agency-1", decision: "allow" })
      .expect(302);
    const to = new URL(allow.headers.location as string);
    expect(to.searchParams.get("state")).toBe("xyz");
    const code = to.searchParams.get("code")!;
    const res = await tokenRequest(sb, {
      grant_type: "authorization_code",
      code,
      redirect_uri: "http://127.0.0.1:3999/oauth/callback",
    }).expect(200);
    expect(res.body).toMatchObject({ userType: "Company", scope: "oauth.write calendars/events.write" });
  });

  it("cancel redirects with access_denied; a bad client_id gets an error page", async () => {
    const cancel = await request(sb.url)
      .post(`/oauth/chooselocation?${query(sb)}`)
      .type("form")
      .send({ decision: "cancel" })
      .expect(302);
    const to = new URL(cancel.headers.location as string);
    expect(to.searchParams.get("error")).toBe("access_denied");
    expect(to.searchParams.has("state")).toBe(false);
    const bad = await request(sb.url)
      .get(`/v2/oauth/chooselocation?${query(sb, { client_id: "other-app" })}`)
      .expect(400);
    expect(bad.text).toContain("No marketplace app");
  });
});

describe("OpenAPI validator", () => {
  it("compiles every request schema of the copied files", () => {
    const validator = getValidator();
    expect(validator.operations.length).toBeGreaterThan(40);
    for (const operation of validator.operations) {
      const result = validator.validate({
        method: operation.method,
        path: operation.pathTemplate,
        headers: {},
        query: {},
        body: {},
        hasBody: true,
      });
      expect(result.operation?.operationId).toBe(operation.operationId);
    }
  });
});
