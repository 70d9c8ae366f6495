/**
 * Locations connected through their agency get their tokens minted from the agency's token. These
 * run in the test's own process (the multi-process refresh tests run the same code in children).
 */
import request from "supertest";
import { apiAs, installCompany } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { expireStoredToken } from "./support/tokens";

const AGENCY = {
  id: "agency-1",
  name: "Bright Smiles Group",
  locations: [
    { id: "loc-a", name: "Downtown" },
    { id: "loc-b", name: "Uptown" },
  ],
};
const MINT = "/oauth/locationToken";

let h: Harness;
afterEach(() => h.close());

async function start(locationTokensHaveRefreshToken: boolean) {
  h = await startHarness({ sandbox: { companies: [AGENCY], locationTokensHaveRefreshToken } });
  await installCompany(h, "agency-1");
}

const list = (locationId = "loc-a") =>
  apiAs(h)
    .get(`/api/locations/${locationId}/block-slots`)
    .query({ calendarId: "cal-1", startTime: "2030-05-01T00:00:00Z", endTime: "2030-05-02T00:00:00Z" });
const mints = () => h.sandbox.state.count("POST", MINT);

/** The location's stored token is past its expiry, and HighLevel agrees. */
async function expireLocation(id = "loc-a") {
  await expireStoredToken(h, id);
  h.sandbox.state.resetRequests();
}

describe("a location without a refresh token of its own", () => {
  beforeEach(() => start(false));

  it("is minted again from the agency's token, the agency left as it is", async () => {
    await expireLocation();
    await list().expect(200);
    expect(mints()).toBe(1);
    expect(h.sandbox.state.refreshCount()).toBe(0);
    expect(h.sandbox.state.invalidRequests()).toEqual([]);
  });

  it("when HighLevel refuses the agency's token while minting, renews the agency once and mints again", async () => {
    await expireLocation();
    h.sandbox.state.expireAccessTokensFor("agency-1"); // dropped early: the app still thinks it valid
    await list().expect(200);
    expect(h.sandbox.state.refreshCount("agency-1")).toBe(1);
    expect(mints()).toBe(2);
    await expireLocation("loc-b");
    await list("loc-b").expect(200);
    expect(h.sandbox.state.refreshCount("agency-1")).toBe(0); // the renewed agency token is kept
  });

  it("cannot be renewed while its agency must be reinstalled: 409 telling to reinstall", async () => {
    await h.db.company.update({ where: { id: "agency-1" }, data: { status: "reauthorization_required" } });
    await expireLocation();
    const res = await list().expect(409);
    expect(res.body.code).toBe("reauthorization_required");
    expect(mints()).toBe(0);
    const row = await h.db.location.findUniqueOrThrow({ where: { id: "loc-a" } });
    expect(row.status).toBe("reauthorization_required");
  });
});

describe("a location of an agency with a refresh token of its own", () => {
  beforeEach(() => start(true));

  it("is refreshed with it, and minted from the agency when HighLevel rejects it", async () => {
    await expireLocation();
    await list().expect(200);
    expect(h.sandbox.state.refreshCount("loc-a")).toBe(1);
    expect(mints()).toBe(0);

    await expireLocation("loc-b");
    h.sandbox.state.revokeRefreshTokensFor("loc-b");
    await list("loc-b").expect(200);
    expect(mints()).toBe(1);
    expect((await h.db.location.findUniqueOrThrow({ where: { id: "loc-b" } })).status).toBe("active");
  });
});

describe("a mint while HighLevel is failing", () => {
  it("keeps the location connecting through ten failures in a row (minutes of backoff), then fails it", async () => {
    h = await startHarness({ sandbox: { companies: [AGENCY] } });
    // The agency's code exchange, with nobody working the mint queue: the test runs each mint.
    await request(h.app)
      .get("/oauth/callback")
      .query({ code: h.sandbox.state.issueCode({ companyId: "agency-1" }) })
      .expect(200);
    h.sandbox.state.failNext(
      { method: "POST", path: MINT },
      { status: 503, body: { statusCode: 503, message: "HighLevel is down" } },
      20,
    );
    const status = async () => (await h.db.location.findUniqueOrThrow({ where: { id: "loc-a" } })).status;
    for (let attempt = 1; attempt < 10; attempt++) {
      await expect(h.services.mintWorker.process({ locationId: "loc-a" })).rejects.toThrow();
      expect(await status()).toBe("connecting");
    }
    await expect(h.services.mintWorker.process({ locationId: "loc-a" })).resolves.toBe("failed");
    expect(await status()).toBe("failed");
  });
});
