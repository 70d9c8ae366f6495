import request from "supertest";
import { AppError } from "../src/errors";
import { installCompany, installLocation } from "./support/api";
import { runTokenWorkers, spawnTs, waitForLine } from "./support/processes";
import { TEST_API_KEY, startHarness, type Harness } from "./support/harness";

const AGENCY = {
  id: "agency-1",
  name: "Twenty Clinics",
  locations: Array.from({ length: 20 }, (_, i) => ({ id: `loc-${String(i).padStart(2, "0")}`, name: `Clinic ${i}` })),
};
const DIRECT = { id: "agency-2", name: "Solo", locations: [{ id: "solo", name: "Solo Clinic" }] };

let h: Harness;
afterEach(() => h?.close());

async function install(target: { locationId: string } | { companyId: string }) {
  if ("companyId" in target) await installCompany(h, target.companyId);
  else await installLocation(h, target.locationId);
}

/** The app's stored tokens are past their expiry, and HighLevel agrees. */
async function expireEverything() {
  const past = new Date(Date.now() - 60_000);
  await h.db.location.updateMany({ data: { tokenExpiresAt: past } });
  await h.db.company.updateMany({ data: { tokenExpiresAt: past } });
  for (const id of ["agency-1", "agency-2", "solo", ...AGENCY.locations.map((l) => l.id)])
    h.sandbox.state.expireAccessTokensFor(id);
}

const call = (locationId: string) =>
  h.services.tokenService.withAccessToken(locationId, (token) =>
    h.services.calendars.listBlockedSlots(token, {
      locationId,
      calendarId: "cal-1",
      startTime: Date.now(),
      endTime: Date.now() + 3_600_000,
    }),
  );

async function installations() {
  const res = await request(h.app).get("/api/installations").auth(TEST_API_KEY, { type: "bearer" }).expect(200);
  return res.body as {
    companies: { id: string; status: string }[];
    locations: { id: string; status: string; lastError?: string }[];
  };
}

/** Pacing under HighLevel's rate limit has tests of its own; these are about refreshes. */
const unpaced = () => ({ ...h.childEnv, HIGHLEVEL_BURST_LIMIT: "10000" });

describe("exactly one refresh per token, across processes", () => {
  it("200 concurrent calls over 3 processes with an expired token: one refresh, all succeed", async () => {
    h = await startHarness({ sandbox: { companies: [DIRECT], rateLimit: { burst: 10_000 } } });
    await install({ locationId: "solo" });
    await expireEverything();

    const share = (n: number) => Array.from({ length: n }, () => "solo");
    const results = await runTokenWorkers(unpaced(), [share(67), share(67), share(66)]);

    expect(results.map((r) => r.errors)).toEqual([[], [], []]);
    expect(results.reduce((sum, r) => sum + r.ok, 0)).toBe(200);
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
    expect(h.sandbox.state.invalidRequests()).toEqual([]);
  });

  it("20 locations minted from one agency token: one agency refresh, one mint per location", async () => {
    h = await startHarness({
      sandbox: { companies: [AGENCY], locationTokensHaveRefreshToken: false, rateLimit: { burst: 10_000 } },
    });
    await install({ companyId: "agency-1" });
    await expireEverything();
    h.sandbox.state.resetRequests();

    const ids = AGENCY.locations.map((l) => l.id);
    const results = await runTokenWorkers(unpaced(), [ids, ids, ids]);

    expect(results.map((r) => r.errors)).toEqual([[], [], []]);
    expect(results.reduce((sum, r) => sum + r.ok, 0)).toBe(60);
    expect(h.sandbox.state.refreshCount("agency-1")).toBe(1);
    expect(h.sandbox.state.count("POST", "/oauth/locationToken")).toBe(20);
  });
});

describe("renewal outcomes", () => {
  beforeEach(async () => {
    h = await startHarness({ sandbox: { companies: [DIRECT] } });
    await install({ locationId: "solo" });
  });

  it("renews a token HighLevel rejects although it looked valid: one refresh, one retry, success", async () => {
    h.sandbox.state.expireAccessTokensFor("solo");
    await expect(call("solo")).resolves.toEqual({ events: [] });
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
    expect(h.sandbox.state.count("GET", "/calendars/blocked-slots")).toBe(2);
  });

  it("renews proactively within the margin of expiry", async () => {
    await h.db.location.update({ where: { id: "solo" }, data: { tokenExpiresAt: new Date(Date.now() + 60_000) } });
    await call("solo");
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
    expect(h.sandbox.state.count("GET", "/calendars/blocked-slots")).toBe(1);
  });

  it("invalid grant: 409 telling the operator to reinstall, stored, and no retry loop", async () => {
    await expireEverything();
    h.sandbox.state.revokeRefreshTokensFor("solo");
    const err = await call("solo").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "reauthorization_required" });
    expect((err as AppError).message).toMatch(/reinstall/);
    expect((err as AppError).message).toContain("/oauth/install");

    // A second call answers from the stored status without asking HighLevel again.
    await expect(call("solo")).rejects.toMatchObject({ code: "reauthorization_required" });
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
    expect((await installations()).locations).toEqual([
      expect.objectContaining({
        id: "solo",
        status: "reauthorization_required",
        lastError: expect.stringMatching(/Invalid grant/),
      }),
    ]);
  });

  it("location not active: 503, the refresh token kept, and it recovers later", async () => {
    await expireEverything();
    const before = (await h.db.location.findUniqueOrThrow({ where: { id: "solo" } })).refreshTokenEnc;
    h.sandbox.state.setLocationInactive("solo", true);
    await expect(call("solo")).rejects.toMatchObject({ code: "location_inactive" });
    const row = await h.db.location.findUniqueOrThrow({ where: { id: "solo" } });
    expect(row.status).toBe("inactive");
    expect(row.refreshTokenEnc).toBe(before);

    h.sandbox.state.setLocationInactive("solo", false);
    await h.db.location.update({ where: { id: "solo" }, data: { updatedAt: new Date(Date.now() - 120_000) } });
    await expect(call("solo")).resolves.toEqual({ events: [] });
    expect((await h.db.location.findUniqueOrThrow({ where: { id: "solo" } })).status).toBe("active");
  });

  it("HighLevel failing during refresh: the stored token is untouched, a later call succeeds", async () => {
    await expireEverything();
    const before = await h.db.location.findUniqueOrThrow({ where: { id: "solo" } });
    h.sandbox.state.failNext(
      { method: "POST", path: "/oauth/token" },
      { status: 500, body: { statusCode: 500, message: "Internal server error" } },
      3,
    );
    await expect(call("solo")).rejects.toMatchObject({ code: "upstream_error", retryable: true });
    const after = await h.db.location.findUniqueOrThrow({ where: { id: "solo" } });
    expect(after.refreshTokenEnc).toBe(before.refreshTokenEnc);
    expect(after.accessTokenEnc).toBe(before.accessTokenEnc);
    expect(after.status).toBe("active");

    await expect(call("solo")).resolves.toEqual({ events: [] });
  });

  it("retries a refresh that fails once with a 5xx, within the same call", async () => {
    await expireEverything();
    h.sandbox.state.failNext(
      { method: "POST", path: "/oauth/token" },
      { status: 502, body: { message: "Bad gateway" } },
      1,
    );
    await expect(call("solo")).resolves.toEqual({ events: [] });
  });

  it("a refresh whose answer was lost is tried once more with the same refresh token", async () => {
    await expireEverything();
    h.sandbox.state.failNext({ method: "POST", path: "/oauth/token" }, { drop: "before" }, 1);
    await expect(call("solo")).resolves.toEqual({ events: [] });
  });

  it("a refresh whose answer was lost after HighLevel spent the token ends in reauthorization, not a loop", async () => {
    await expireEverything();
    h.sandbox.state.failNext({ method: "POST", path: "/oauth/token" }, { drop: "after" }, 1);
    await expect(call("solo")).rejects.toMatchObject({ code: "reauthorization_required" });
    expect(h.sandbox.state.refreshCount("solo")).toBe(2);
  });

  it("a process killed while holding the renewal lock does not block the next renewal", async () => {
    await expireEverything();
    const holder = spawnTs("test/support/hold-lock.ts", ["solo"], h.childEnv);
    await waitForLine(holder, (l) => l === "locked");

    let settled = false;
    const pending = call("solo").finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(settled).toBe(false); // waiting for the lock the other process holds

    holder.kill("SIGKILL");
    await expect(pending).resolves.toEqual({ events: [] });
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
  });

  it("unknown locations answer 404 location_not_installed without calling HighLevel", async () => {
    h.sandbox.state.resetRequests();
    await expect(call("nowhere")).rejects.toMatchObject({ code: "location_not_installed" });
    expect(h.sandbox.state.requests).toEqual([]);
  });

  it("the background refresher renews tokens that are about to expire, once", async () => {
    await h.db.location.update({
      where: { id: "solo" },
      data: { tokenExpiresAt: new Date(Date.now() + 10 * 60_000), nextRefreshAt: new Date(Date.now() - 60_000) },
    });
    const sweeps = await Promise.all([h.services.refresher.sweep(), h.services.refresher.sweep()]);
    expect(sweeps.map((s) => s.failed)).toEqual([0, 0]);
    expect(h.sandbox.state.refreshCount("solo")).toBe(1);
    const row = await h.db.location.findUniqueOrThrow({ where: { id: "solo" } });
    expect(row.tokenExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
  });
});
