import { RateLimitHeld } from "../src/highlevel/errors";
import { RateLimitPacer } from "../src/highlevel/pacer";
import { createRateBudgetPool, RateBudget } from "../src/highlevel/rate-budget";
import { startHarness, type Harness } from "./support/harness";
import { AGENCY, companyToken, SOLO } from "./support/sandbox-fixtures";

// What HighLevel's X-RateLimit-Remaining 0 does to an owner's calls, in every process (DECISIONS #47).
// HighLevel allows 5 calls per 2 s here, as the app's budget does.
const ZERO = { "x-ratelimit-remaining": "0", "x-ratelimit-max": "5", "x-ratelimit-interval-milliseconds": "2000" };
const limits = { perWindow: 5, windowMs: 2000, daily: 100_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: Harness | undefined;
let pools: ReturnType<typeof createRateBudgetPool>[] = [];
afterEach(async () => {
  for (const pool of pools) await pool.end();
  pools = [];
  await h?.close();
  h = undefined;
});

/** A process's pacer on the shared budget. */
function process_(budgetLimits = limits): RateLimitPacer {
  const pool = createRateBudgetPool(h!.databaseUrl, h!.services.log);
  pools.push(pool);
  return new RateLimitPacer(new RateBudget(pool, budgetLimits));
}

async function pausedForMs(owner: string): Promise<number> {
  const [row] = await h!.db.highLevelRateLimit.findMany({ where: { owner } });
  return Number(row?.pausedUntil ?? 0) - Date.now();
}

describe("HighLevel says no calls remain", () => {
  beforeEach(async () => {
    h = await startHarness({ sandbox: { companies: [SOLO] } });
  });

  it("when the app's own calls account for it, the next call waits for the app's window, not a whole interval", async () => {
    const pacer = process_();
    await pacer.acquire("loc-own");
    await sleep(1500);
    for (let i = 0; i < 4; i++) await pacer.acquire("loc-own");

    // The fifth call's answer: none left. The first call leaves the app's window (2 s and the late
    // second) 1.5 s from now; a hold for HighLevel's interval from now would be 2 s.
    await pacer.observe("loc-own", ZERO);

    expect(await pausedForMs("loc-own")).toBeLessThanOrEqual(0);
    await expect(pacer.acquire("loc-own", { maxWaitMs: 1700 })).resolves.toBeUndefined();
  });

  it("when HighLevel allows fewer than the app's budget, its zero holds the owner though every call was the app's", async () => {
    const pacer = process_();
    for (let i = 0; i < 3; i++) await pacer.acquire("loc-fewer");

    await pacer.observe("loc-fewer", { ...ZERO, "x-ratelimit-max": "3" });

    expect(await pausedForMs("loc-fewer")).toBeGreaterThan(1500);
  });

  it("calls this process sent from a lease count as the app's own, though counted later in the shared window", async () => {
    // 10 per 10 s: the first calls in a row are leased ahead (stamped 4 s later), up to half the window.
    const pacer = process_({ perWindow: 10, windowMs: 10_000, daily: 100_000 });
    for (let i = 0; i < 10; i++) await pacer.acquire("loc-leased");

    await pacer.observe("loc-leased", {
      ...ZERO,
      "x-ratelimit-max": "10",
      "x-ratelimit-interval-milliseconds": "10000",
    });

    expect(await pausedForMs("loc-leased")).toBeLessThanOrEqual(0);
  });

  it("when calls the app did not make share the limit, every process holds the owner for HighLevel's interval", async () => {
    const pacer = process_();
    const other = process_();
    for (let i = 0; i < 2; i++) await pacer.acquire("loc-shared");

    await pacer.observe("loc-shared", ZERO);

    expect(await pausedForMs("loc-shared")).toBeGreaterThan(1500);
    await expect(pacer.acquire("loc-shared", { maxWaitMs: 1000 })).rejects.toBeInstanceOf(RateLimitHeld);
    await expect(other.acquire("loc-shared", { maxWaitMs: 1000 })).rejects.toBeInstanceOf(RateLimitHeld);
  });

  it("a 429 holds the owner for the interval even when the app's own calls account for the limit", async () => {
    const pacer = process_();
    for (let i = 0; i < 5; i++) await pacer.acquire("loc-refused");

    await pacer.observe("loc-refused", ZERO, 429);

    expect(await pausedForMs("loc-refused")).toBeGreaterThan(1500);
    await expect(pacer.acquire("loc-refused", { maxWaitMs: 1000 })).rejects.toBeInstanceOf(RateLimitHeld);
  });
});

describe("an agency's own calls", () => {
  it("a 429 to listing its installed sub-accounts holds the agency, though its own calls account for the limit", async () => {
    h = await startHarness({
      sandbox: { companies: [AGENCY] },
      env: { HIGHLEVEL_BURST_LIMIT: "5", HIGHLEVEL_BURST_WINDOW_MS: "2000" },
    });
    const token = await companyToken(h.sandbox, "agency-1");
    for (let i = 0; i < 4; i++) await h.services.pacer.acquire("agency-1");
    // The fifth call is refused: only its status tells a refusal from a last call allowed.
    h.sandbox.state.failNext(
      { method: "GET", path: "/oauth/installedLocations" },
      { status: 429, body: { statusCode: 429, message: "Too many requests" }, headers: ZERO },
    );
    await expect(h.services.oauth.listInstalledLocations(token, "agency-1")).rejects.toMatchObject({ status: 429 });
    expect(await pausedForMs("agency-1")).toBeGreaterThan(1500);
  });
});
