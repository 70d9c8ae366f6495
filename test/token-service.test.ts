/**
 * The token service on its own, driven against real PostgreSQL and the sandbox: what it hands back
 * and when it asks HighLevel, for the paths a caller of the API rarely reaches on purpose (an
 * agency's refused token, an agency gone, a pause after "location inactive", the cache's bounds).
 */
import { InvalidAccessTokenError } from "../src/highlevel/errors";
import { TokenService, type TokenServiceOptions } from "../src/tokens/service";
import { installCompany, installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { expireStoredToken } from "./support/tokens";

const AGENCY = { id: "agency-1", name: "Bright Smiles Group", locations: [{ id: "loc-a", name: "Downtown" }] };
const DIRECT = { id: "agency-2", name: "Solo", locations: [{ id: "solo", name: "Solo Clinic" }] };
const TOKEN = { method: "POST", path: "/oauth/token" };
const MINT = { method: "POST", path: "/oauth/locationToken" };
const INSTALL_URL = "https://app.example/oauth/install";

let h: Harness;
afterEach(() => h.close());

async function start(locationTokensHaveRefreshToken = false) {
  h = await startHarness({ sandbox: { companies: [AGENCY, DIRECT], locationTokensHaveRefreshToken } });
  await installCompany(h, AGENCY.id);
  await installLocation(h, "solo");
  h.sandbox.state.resetRequests();
}

/** A service of its own, as another process would have: its own cache, short waits between tries. */
const service = (options: Partial<TokenServiceOptions> = {}) =>
  new TokenService(h.db, h.services.tokens, h.services.oauth, h.services.log, {
    installUrl: INSTALL_URL,
    retryDelaysMs: [1, 1],
    ...options,
  });

const status = async (id: string) => (await h.db.location.findUniqueOrThrow({ where: { id } })).status;
const mints = () => h.sandbox.state.count(MINT.method, MINT.path);

describe("a call made with a token", () => {
  beforeEach(() => start());

  it("that fails for another reason than a refused token gets its error back: nothing renewed, not repeated", async () => {
    const svc = service();
    for (const call of [
      (fn: (t: string) => Promise<never>) => svc.withAccessToken("solo", fn),
      (fn: (t: string) => Promise<never>) => svc.withCompanyToken(AGENCY.id, fn),
    ]) {
      const failure = new Error("calendar not found");
      let calls = 0;
      await expect(
        call(() => {
          calls++;
          return Promise.reject(failure);
        }),
      ).rejects.toBe(failure);
      expect(calls).toBe(1);
    }
    expect(h.sandbox.state.count(TOKEN.method, TOKEN.path)).toBe(0);
  });

  it("with an agency token HighLevel refused renews it once, as a Company token, and calls again with the new one", async () => {
    const svc = service();
    const sent: string[] = [];
    const result = await svc.withCompanyToken(AGENCY.id, (token) => {
      sent.push(token);
      if (sent.length === 1) return Promise.reject(new InvalidAccessTokenError(401, "Invalid JWT"));
      return Promise.resolve("listed");
    });
    expect(result).toBe("listed");
    expect(sent).toHaveLength(2);
    expect(sent[1]).not.toBe(sent[0]);
    expect(h.sandbox.state.refreshCount(AGENCY.id)).toBe(1);
    const [refresh] = h.sandbox.state.requests.filter((r) => r.path === TOKEN.path);
    expect(refresh?.body).toMatchObject({ grant_type: "refresh_token", user_type: "Company" });
    // The refused token is forgotten: later calls get the new one.
    expect(await svc.accessToken("company", AGENCY.id)).toBe(sent[1]);
    expect(h.logs.withMessage("HighLevel rejected an agency access token; renewing once")).toEqual([
      expect.objectContaining({ companyId: AGENCY.id }),
    ]);
  });

  it("of a location renews it as a Location token", async () => {
    await expireStoredToken(h, "solo");
    await service().accessToken("location", "solo");
    const [refresh] = h.sandbox.state.requests.filter((r) => r.path === TOKEN.path);
    expect(refresh?.body).toMatchObject({ grant_type: "refresh_token", user_type: "Location" });
    expect(h.logs.withMessage("token renewed")).toEqual([expect.objectContaining({ owner: "location", id: "solo" })]);
  });
});

describe("tokens kept in memory", () => {
  beforeEach(() => start());

  it("while changes are heard, a token is read once and kept until its change is told", async () => {
    // Unheard, a token would be kept 1 ms; heard, it is kept until told.
    const svc = service({ cacheMs: 1 });
    svc.listenForChanges({ listening: true });
    const first = await svc.accessToken("location", "solo");
    await new Promise((r) => setTimeout(r, 20));
    // Another process renews it; this one has not heard yet.
    const renewed = await h.services.tokenService.renew("location", "solo", { rejected: first });
    expect(renewed).not.toBe(first);
    expect(await svc.accessToken("location", "solo")).toBe(first);

    svc.changed("location:solo");
    expect(await svc.accessToken("location", "solo")).toBe(renewed);

    const agencyToken = await svc.accessToken("company", AGENCY.id);
    const agencyRenewed = await h.services.tokenService.renew("company", AGENCY.id, { rejected: agencyToken });
    svc.changed(`company:${AGENCY.id}`);
    expect(await svc.accessToken("company", AGENCY.id)).toBe(agencyRenewed);
  });

  it("when the connection that tells of changes was cut, every kept token is read again", async () => {
    const svc = service();
    svc.listenForChanges({ listening: true });
    const first = await svc.accessToken("location", "solo");
    const renewed = await h.services.tokenService.renew("location", "solo", { rejected: first });
    svc.lost();
    expect(await svc.accessToken("location", "solo")).toBe(renewed);
  });

  it("with the cache turned off, every call reads the database, even while changes are heard", async () => {
    const svc = service({ cacheMs: 0 });
    svc.listenForChanges({ listening: true });
    const first = await svc.accessToken("location", "solo");
    const renewed = await h.services.tokenService.renew("location", "solo", { rejected: first });
    expect(await svc.accessToken("location", "solo")).toBe(renewed);
  });
});

describe("a location minted from its agency", () => {
  beforeEach(() => start());

  it("whose agency's token is refused on every mint stops after renewing the agency twice", async () => {
    await expireStoredToken(h, "loc-a");
    h.sandbox.state.failNext(MINT, { status: 401, body: { statusCode: 401, message: "Invalid JWT" } }, 20);
    const failure = service().accessToken("location", "loc-a");
    await expect(failure).rejects.toMatchObject({
      code: "upstream_error",
      message: expect.stringContaining("for location loc-a: the agency token was refused twice"),
    });
    expect(mints()).toBe(2);
    expect(h.sandbox.state.refreshCount(AGENCY.id)).toBe(2);
    expect(await status("loc-a")).toBe("active");
  });

  it("whose agency uninstalled the app must be reinstalled, and says why", async () => {
    await h.db.company.update({ where: { id: AGENCY.id }, data: { status: "uninstalled" } });
    await expireStoredToken(h, "loc-a");
    await expect(service().accessToken("location", "loc-a")).rejects.toMatchObject({
      code: "reauthorization_required",
      message: expect.stringContaining(
        "for location loc-a (the agency's authorization is not available to mint a location token)",
      ),
    });
    expect(mints()).toBe(0);
    expect(await status("loc-a")).toBe("reauthorization_required");
  });

  it("is not marked for reinstall when renewing its agency's token fails for a while", async () => {
    await expireStoredToken(h, "loc-a");
    await expireStoredToken(h, AGENCY.id, "agency");
    h.sandbox.state.failNext(TOKEN, { status: 503, body: { statusCode: 503, message: "Unavailable" } }, 100);
    await expect(service().accessToken("location", "loc-a")).rejects.toMatchObject({
      code: "upstream_error",
      retryable: true,
    });
    expect(mints()).toBe(0);
    expect(await status("loc-a")).toBe("active");
    expect(h.logs.withMessage("token renewal failed; stored token kept")).toContainEqual(
      expect.objectContaining({ owner: "company", id: AGENCY.id, reason: expect.stringContaining("Unavailable") }),
    );
  });

  it("whose agency is unknown, or whose location is connecting, is refused without asking HighLevel", async () => {
    const svc = service();
    await expect(svc.accessToken("company", "agency-unknown")).rejects.toMatchObject({
      code: "not_found",
      message: expect.stringContaining("Agency agency-unknown has not installed this app"),
    });
    await h.db.location.update({ where: { id: "loc-a" }, data: { status: "connecting" } });
    await expireStoredToken(h, "loc-a");
    await expect(svc.accessToken("location", "loc-a")).rejects.toMatchObject({ code: "location_connecting" });
    expect(mints()).toBe(0);
  });
});

describe("a location of an agency with a refresh token of its own", () => {
  beforeEach(() => start(true));

  it("is refreshed again after a 5xx, not minted in its place", async () => {
    await expireStoredToken(h, "loc-a");
    h.sandbox.state.resetRequests();
    h.sandbox.state.failNext(TOKEN, { status: 502, body: { statusCode: 502, message: "Bad gateway" } });
    await service().accessToken("location", "loc-a");
    expect(mints()).toBe(0);
    expect(h.sandbox.state.refreshCount("loc-a")).toBe(1);
  });
});

describe("renewals and how they ended", () => {
  beforeEach(() => start());

  it("tells each outcome, and names the location in what the caller reads", async () => {
    const outcomes: string[] = [];
    const svc = service({ onRenewal: (owner, outcome) => outcomes.push(`${owner} ${outcome}`) });

    await expireStoredToken(h, "solo");
    h.sandbox.state.failNext(TOKEN, { status: 500, body: { statusCode: 500, message: "Internal error" } }, 3);
    await expect(svc.accessToken("location", "solo")).rejects.toMatchObject({
      code: "upstream_error",
      message: expect.stringContaining("Could not renew the HighLevel token for location solo"),
    });
    expect(outcomes.splice(0)).toEqual(["location error", "location error", "location error"]);
    await svc.accessToken("location", "solo");
    expect(outcomes.splice(0)).toEqual(["location ok"]);

    await expireStoredToken(h, "solo");
    h.sandbox.state.setLocationInactive("solo", true);
    await expect(svc.accessToken("location", "solo")).rejects.toMatchObject({ code: "location_inactive" });
    expect(outcomes.splice(0)).toEqual(["location inactive"]);
    h.sandbox.state.setLocationInactive("solo", false);

    await h.db.location.update({ where: { id: "solo" }, data: { updatedAt: new Date(Date.now() - 120_000) } });
    h.sandbox.state.revokeRefreshTokensFor("solo");
    await expect(svc.accessToken("location", "solo")).rejects.toMatchObject({
      code: "reauthorization_required",
      message: expect.stringContaining(`for location solo (`),
    });
    expect(outcomes.splice(0)).toEqual(["location invalid_grant"]);
    expect(h.logs.withMessage("refresh token rejected: reinstall required")).toEqual([
      expect.objectContaining({ owner: "location", id: "solo" }),
    ]);
    // From the stored status, without asking HighLevel again.
    await expect(svc.accessToken("location", "solo")).rejects.toMatchObject({
      message: expect.stringMatching(/for location solo \(.+\)\. An agency admin must reinstall the app/),
    });
    expect(outcomes).toEqual([]);
  });
});

describe("a location HighLevel said was inactive", () => {
  beforeEach(() => start());

  const inactiveSince = (msAgo: number) =>
    h.db.location.update({
      where: { id: "solo" },
      data: { status: "inactive", updatedAt: new Date(Date.now() - msAgo) },
    });

  it("is tried again once its pause is over, although its stored token has not expired", async () => {
    await inactiveSince(120_000);
    await service().accessToken("location", "solo");
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
    expect(await status("solo")).toBe("active");
  });

  it("is renewed by the background refresher at once; only callers wait out the pause", async () => {
    await inactiveSince(0);
    const svc = service();
    await expect(svc.accessToken("location", "solo")).rejects.toMatchObject({ code: "location_inactive" });
    await svc.renew("location", "solo", { minValidityMs: 24 * 3600_000 });
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
    expect(await status("solo")).toBe("active");
  });
});

describe("a renewal whose transaction closes while HighLevel answers", () => {
  beforeEach(() => start());

  it("keeps the tokens HighLevel issued: the next call uses them, with no second refresh and no reinstall", async () => {
    await expireStoredToken(h, "solo");
    // HighLevel answers after the renewal's transaction has passed its time limit.
    const oauth = h.services.oauth;
    const slow = Object.create(oauth) as typeof oauth;
    slow.refresh = async (...args: Parameters<typeof oauth.refresh>) => {
      await new Promise((r) => setTimeout(r, 800));
      return oauth.refresh(...args);
    };
    const svc = new TokenService(h.db, h.services.tokens, slow, h.services.log, {
      installUrl: INSTALL_URL,
      retryDelaysMs: [],
      transactionTimeoutMs: 300,
    });
    // Whether this caller hears of the tokens depends on when the transaction is noticed closed.
    await svc.accessToken("location", "solo").catch(() => undefined);
    // The refresh token it spent is gone from HighLevel; the one it got is stored.
    for (let i = 0; i < 50 && h.sandbox.state.refreshCount("solo") < 1; i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
    const token = await service().accessToken("location", "solo");
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
    expect(await status("solo")).toBe("active");
    expect(token).toBeTruthy();
    expect(h.logs.withMessage("token renewed after its transaction closed: stored on its own")).toHaveLength(1);
  });

  it("does not store them over an installation that changed meanwhile (a reinstall, an uninstall)", async () => {
    const store = h.services.tokens;
    const seen = (await h.db.location.findUniqueOrThrow({ where: { id: "solo" } })) as {
      accessTokenEnc: string | null;
      refreshTokenEnc: string | null;
    };
    const late = { access_token: "late-access", refresh_token: "late-refresh", expires_in: 86399 };
    // A reinstall stored other tokens meanwhile.
    await installLocation(h, "solo");
    expect(await store.saveRenewedIfUnchanged("location", "solo", late, seen)).toBe(false);
    expect((await store.locationTokens("solo"))?.accessToken).not.toBe("late-access");
    // An uninstall cleared them: nothing is brought back either.
    await h.db.location.update({
      where: { id: "solo" },
      data: { status: "uninstalled", accessTokenEnc: null, refreshTokenEnc: null },
    });
    expect(
      await store.saveRenewedIfUnchanged("location", "solo", late, { accessTokenEnc: null, refreshTokenEnc: null }),
    ).toBe(false);
    expect(await status("solo")).toBe("uninstalled");
  });
});
