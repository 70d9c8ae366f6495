import type { ChildProcessWithoutNullStreams } from "node:child_process";
import type { Response } from "supertest";
import { RateLimitPacer } from "../src/highlevel/pacer";
import { createRateBudgetPool, RateBudget, type Ask } from "../src/highlevel/rate-budget";
import { apiAs, installCompany, installLocation } from "./support/api";
import { waitForJob } from "./support/bulk";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { spawnTs, waitForLine } from "./support/processes";
import { AGENCY, SOLO, SOLO_SLOT, SOLO_SLOTS, withCalendars } from "./support/sandbox-fixtures";
import { deliver, event, processed, webhookSigners } from "./support/webhooks";

let h: Harness | undefined;
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  if (!h) return;
  const invalid = h.sandbox.state.invalidRequests();
  await h.close();
  h = undefined;
  expect(invalid).toEqual([]);
});

const slot = (i: number) => {
  const start = Date.UTC(2030, 4, 1) + i * 3600_000;
  return {
    ...SOLO_SLOT,
    title: `Block ${i}`,
    startTime: new Date(start).toISOString(),
    endTime: new Date(start + 1800_000).toISOString(),
  };
};
const creates = () => h!.sandbox.state.requests.filter((r) => r.method === "POST" && r.path.includes("block-slots"));
const limiter = () => h!.sandbox.state.rateLimiter;

/** `npm start` as a child process on the test database and sandbox; resolves with its URL. */
async function startServer(env: Record<string, string>): Promise<string> {
  const child = spawnTs("src/server.ts", [], {
    ...h!.childEnv,
    PORT: "0",
    LOG_LEVEL: "info",
    API_KEYS: TEST_API_KEY,
    WORKER_CONCURRENCY: "0",
    ...env,
  });
  children.push(child);
  const line = await waitForLine(child, (l) => l.includes('"listening"'));
  child.stdout.resume();
  return (JSON.parse(line) as { url: string }).url;
}

describe("one HighLevel rate limit shared by every process", () => {
  it("three processes creating for one location as fast as callers send: HighLevel never sees more than its limit", async () => {
    // HighLevel allows 20 per 2 s here; the app keeps 18 per 2 s, in all its processes together.
    h = await startHarness({ sandbox: { companies: [SOLO], rateLimit: { burst: 20, intervalMs: 2000 } } });
    await installLocation(h, "loc-solo");
    const limits = { HIGHLEVEL_BURST_LIMIT: "18", HIGHLEVEL_BURST_WINDOW_MS: "2000" };
    const urls = await Promise.all([startServer(limits), startServer(limits), startServer(limits)]);

    const answers = await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const res = await fetch(`${urls[i % 3]}${SOLO_SLOTS}`, {
          method: "POST",
          headers: { Authorization: `Bearer ${TEST_API_KEY}`, "Content-Type": "application/json" },
          body: JSON.stringify(slot(i)),
        });
        const body = (await res.json()) as { code?: string };
        return { status: res.status, retryAfter: res.headers.get("retry-after"), code: body.code };
      }),
    );

    const made = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    // Every create is either made, or refused with when to come back.
    expect(refused.every((a) => a.status === 429 && a.code === "rate_limited" && Number(a.retryAfter) >= 1)).toBe(true);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(made.length);
    // Callers waited through several windows, not just the first.
    expect(made.length).toBeGreaterThanOrEqual(54);
    expect(refused.length).toBeGreaterThan(0);
    expect(limiter().rejected("loc-solo")).toBe(0);
    expect(limiter().peak("loc-solo")).toBeLessThanOrEqual(20);
  }, 180_000);

  it("a 429 without Retry-After is waited out by the window HighLevel's headers give, once for every caller", async () => {
    // HighLevel allows fewer than the app expects: the third create meets a 429 that names no wait.
    h = await startHarness({
      sandbox: { companies: [SOLO], rateLimit: { burst: 2, intervalMs: 1500, retryAfter: false } },
    });
    await installLocation(h, "loc-solo");
    await new Promise((r) => setTimeout(r, 1600)); // the install's own calls leave the window
    h.sandbox.state.resetRequests();

    const statuses = await Promise.all(
      [0, 1, 2].map(async (i) => (await apiAs(h!).post(SOLO_SLOTS).send(slot(i))).status),
    );

    expect(statuses).toEqual([201, 201, 201]);
    const refusals = h.sandbox.state.requests.filter((r) => r.status === 429);
    expect(refusals).toHaveLength(1);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(3);
  });
});

describe("the daily limit", () => {
  it("HighLevel's day used up: calls are held with Retry-After, nothing more is sent, queued items wait saying why", async () => {
    // Five a day. The install reads the location's record (once or twice: at once, and queued), so
    // the creates that fit are the rest; the app must stop by itself once HighLevel says none are left.
    h = await startHarness({ sandbox: { companies: [SOLO], rateLimit: { daily: 5 } }, jobs: true });
    await installLocation(h, "loc-solo");
    let made = 0;
    let refused: Response | undefined;
    for (let i = 0; i < 5 && !refused; i++) {
      const res = await apiAs(h).post(SOLO_SLOTS).send(slot(i));
      if (res.status === 201) made++;
      else refused = res;
    }
    expect(made).toBeGreaterThanOrEqual(3);
    expect(refused?.status).toBe(429);
    const held = refused!;
    expect(held.body.code).toBe("rate_limited");
    expect(held.body.detail).toMatch(/daily HighLevel limit/);
    // HighLevel does not say when its day resets: the app tries again within the hour.
    expect(Number(held.headers["retry-after"])).toBeGreaterThan(3500);
    expect(Number(held.headers["retry-after"])).toBeLessThanOrEqual(3600);

    const { body: job } = await apiAs(h)
      .post("/api/block-slots/bulk")
      .send({ items: [{ locationId: "loc-solo", ...slot(9) }] })
      .expect(202);
    const waiting = await waitForJob(h, job.id, (j) => !!j.items?.[0]?.error, 20_000);
    expect(waiting.status).not.toMatch(/done/);
    expect(waiting.items![0]).toMatchObject({
      status: "pending",
      error: {
        code: "rate_limited",
        detail: expect.stringMatching(/^waiting: daily HighLevel limit reached for this location, resumes at \S+Z$/),
      },
    });
    expect(creates()).toHaveLength(made);
    expect(h.sandbox.state.requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it("the app's own count per location and UTC day: past HIGHLEVEL_DAILY_LIMIT, 429 until midnight", async () => {
    // Three a day: the install reads the location's record, then two creates.
    h = await startHarness({ sandbox: { companies: [SOLO] }, env: { HIGHLEVEL_DAILY_LIMIT: "3" } });
    await installLocation(h, "loc-solo");
    for (let i = 0; i < 2; i++) await apiAs(h).post(SOLO_SLOTS).send(slot(i)).expect(201);

    const held = await apiAs(h).post(SOLO_SLOTS).send(slot(2)).expect(429);
    const midnight = Math.ceil(Date.now() / 86_400_000) * 86_400_000;
    expect(Math.abs(Number(held.headers["retry-after"]) - (midnight - Date.now()) / 1000)).toBeLessThan(5);
    expect(creates()).toHaveLength(2);
  });
});

describe("queued work meeting a rate limit is rescheduled, never failed", () => {
  it("a webhook delivery whose block is held back counts no attempt and says what it waits for", async () => {
    const signers = webhookSigners();
    h = await startHarness({
      // Rules name calendars HighLevel lists for their locations.
      sandbox: {
        companies: [withCalendars(AGENCY, { "loc-a": ["cal-1"] }), withCalendars(SOLO, { "loc-solo": ["cal-1"] })],
      },
      env: { ...signers.env, HIGHLEVEL_DAILY_LIMIT: "50" },
    });
    await installCompany(h, "agency-1");
    await installLocation(h, "loc-solo");
    await apiAs(h).post(SOLO_SLOTS).send(slot(1)).expect(201);
    await apiAs(h)
      .post("/api/blocking-rules")
      .send({
        source: { locationId: "loc-a", calendarId: "cal-1" },
        targets: [{ locationId: "loc-solo", calendarId: "cal-1" }],
      })
      .expect(201);
    // loc-solo's calls of the day are used up, as 50 calls from any process would leave them.
    await h.db.$executeRaw`SELECT highlevel_rate_note('loc-solo', 0, 50, 0)`;
    const booked = event({
      type: "AppointmentCreate",
      locationId: "loc-a",
      appointment: { ...slot(0), id: "appt-1", contactId: "c-1" },
    });
    await deliver(h, signers, booked).expect(200);

    await expect(h.services.webhooks.process(booked.webhookId)).rejects.toMatchObject({ code: "rate_limited" });
    await expect(h.services.webhooks.process(booked.webhookId)).rejects.toMatchObject({ code: "rate_limited" });
    const row = await processed(h, booked.webhookId, (outcome) => !!outcome);
    expect(row).toMatchObject({ status: "received", attempts: 0 });
    expect(row.outcome).toMatch(/waiting: daily HighLevel limit reached for this location, resumes at/);
    expect(creates()).toHaveLength(1);
  });
});

describe("callers waiting in one process", () => {
  it("a caller arriving while the budget is being asked is not refused on a guess: queued work would lose a window", async () => {
    h = await startHarness({ sandbox: { companies: [SOLO] } });
    const pool = createRateBudgetPool(h.databaseUrl, h.services.log);
    try {
      // Two calls per 2 s (each counted 3 s with the late second); callers wait up to 4 s.
      const pacer = new RateLimitPacer(new RateBudget(pool, { perWindow: 2, windowMs: 2000, daily: 1000 }), {
        maxWaitMs: 4000,
      });
      await pacer.acquire("loc-one");
      await pacer.acquire("loc-one");
      const third = pacer.acquire("loc-one");
      // The third caller's question is out (asked after this turn of the event loop) when the fourth comes.
      await new Promise((resolve) => setImmediate(resolve));
      const fourth = pacer.acquire("loc-one");
      const started = Date.now();
      // Both fit in the next window, 3 s away: both wait for it. Refused on the guess "behind the
      // third, a whole window later", the fourth would have been put back past its slot.
      await expect(Promise.all([third, fourth])).resolves.toEqual([undefined, undefined]);
      expect(Date.now() - started).toBeGreaterThan(2000);
    } finally {
      await pool.end();
    }
  });
});

/** A budget that counts its round trips for grants. */
class CountedBudget extends RateBudget {
  takes = 0;
  override take(asks: Map<string, Ask>) {
    this.takes += 1;
    return super.take(asks);
  }
}

describe("leases: an owner called often spends calls granted ahead", () => {
  const sentFor = async (owner: string) => {
    const [row] = await h!.db.highLevelRateLimit.findMany({ where: { owner } });
    return row?.sent.length ?? 0;
  };
  const withPacer = async (
    perWindow: number,
    work: (pacer: RateLimitPacer, budget: CountedBudget) => Promise<void>,
  ) => {
    h = await startHarness({ sandbox: { companies: [SOLO] } });
    const pool = createRateBudgetPool(h.databaseUrl, h.services.log);
    const budget = new CountedBudget(pool, { perWindow, windowMs: 10_000, daily: 100_000 });
    try {
      await work(new RateLimitPacer(budget), budget);
    } finally {
      await pool.end();
    }
  };

  it("40 calls in a row take a handful of round trips, and what is left of the lease goes back on close", async () => {
    await withPacer(100, async (pacer, budget) => {
      for (let i = 0; i < 40; i++) await pacer.acquire("loc-busy");
      // Each lease asks for as many calls as went in the last seconds (0, 1, 3, 7, 15, then 18:
      // up to half the window), so the 40 calls took 6 round trips.
      expect(budget.takes).toBe(6);
      // Counted in the shared window: the 40 calls and the lease not yet spent, stamped 4 s later
      // than the calls that went at once (they may go up to 4 s later).
      const [row] = await h!.db.highLevelRateLimit.findMany({ where: { owner: "loc-busy" } });
      expect(row!.sent.length).toBe(50);
      expect(Number(row!.sent.at(-1)! - row!.sent[0]!)).toBeGreaterThanOrEqual(4000);
      await pacer.close();
      expect(await sentFor("loc-busy")).toBe(40);
    });
  });

  it("past half its window an owner gets exact grants: nothing is held ahead that another process could need", async () => {
    await withPacer(10, async (pacer, budget) => {
      for (let i = 0; i < 8; i++) await pacer.acquire("loc-near");
      // Leases while at most 5 of 10 are counted (calls 3 and 5); the calls after that each asked.
      expect(budget.takes).toBe(6);
      expect(await sentFor("loc-near")).toBe(8);
      // The window is full at 10: the 11th call is refused, however the first ten were granted.
      await pacer.acquire("loc-near");
      await pacer.acquire("loc-near");
      await expect(pacer.acquire("loc-near", { maxWaitMs: 100 })).rejects.toMatchObject({ code: "rate_limited" });
    });
  });

  it("a process of the previous version, asking with the five-argument function, still gets exact grants", async () => {
    await withPacer(10, async (pacer) => {
      for (let i = 0; i < 3; i++) await pacer.acquire("loc-mixed");
      const pool = createRateBudgetPool(h!.databaseUrl, h!.services.log);
      try {
        const { rows } = await pool.query<{ granted: number; waits_ms: number[] }>(
          "SELECT * FROM highlevel_rate_take($1::text[], $2::int[], $3, $4, $5)",
          [["loc-mixed"], [9], 10, 11_000, 100_000],
        );
        // Three calls counted (the third from a lease of one): 7 of the 9 asked for go, 2 wait.
        expect(rows).toEqual([expect.objectContaining({ granted: 7, waits_ms: expect.any(Array) })]);
        expect(rows[0]!.waits_ms).toHaveLength(2);
      } finally {
        await pool.end();
      }
    });
  });

  it("two processes calling one owner steadily: no span of HighLevel's window sees more than the limit", async () => {
    h = await startHarness({ sandbox: { companies: [SOLO] } });
    const pool = createRateBudgetPool(h.databaseUrl, h.services.log);
    // 12 per second (each counted 2 s with the late second, a lease 400 ms longer); callers wait up to 5 s.
    const limits = { perWindow: 12, windowMs: 1000, daily: 100_000 };
    const processes = [
      new RateLimitPacer(new RateBudget(pool, limits)),
      new RateLimitPacer(new RateBudget(pool, limits)),
    ];
    const went: number[] = [];
    try {
      const end = Date.now() + 4000;
      await Promise.all(
        processes.map(async (pacer, p) => {
          for (let i = 0; Date.now() < end; i++) {
            await pacer.acquire("loc-shared", { maxWaitMs: 5000 });
            went.push(Date.now());
            // Bursts and pauses: leases are taken when calls come often, spent late in their span.
            await new Promise((r) => setTimeout(r, (i + p) % 5 === 0 ? 300 : 20));
          }
        }),
      );
      await Promise.all(processes.map((pacer) => pacer.close()));
    } finally {
      await pool.end();
    }
    went.sort((a, b) => a - b);
    const busiest = Math.max(...went.map((t) => went.filter((u) => u >= t && u < t + limits.windowMs).length));
    expect(busiest).toBeLessThanOrEqual(limits.perWindow);
    expect(went.length).toBeGreaterThan(2 * limits.perWindow);
  }, 30_000);
});
