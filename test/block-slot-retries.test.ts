import { RateLimitPacer } from "../src/highlevel/pacer";
import { createRateBudgetPool, RateBudget } from "../src/highlevel/rate-budget";
import type { SandboxOptions } from "../sandbox";
import { apiAs, installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { CREATE_REQUEST, SOLO, SOLO_SLOT, SOLO_SLOTS } from "./support/sandbox-fixtures";

const SLOT = SOLO_SLOT;
const SLOTS = SOLO_SLOTS;
const CREATE = CREATE_REQUEST;

let h: Harness | undefined;
async function start(sandbox: SandboxOptions = {}) {
  const started = await startHarness({ sandbox: { companies: [SOLO], ...sandbox } });
  await installLocation(started, "loc-solo");
  started.sandbox.state.resetRequests();
  return (h = started);
}
afterEach(async () => {
  if (!h) return;
  const invalid = h.sandbox.state.invalidRequests();
  await h.close();
  h = undefined;
  expect(invalid).toEqual([]);
});
const api = () => apiAs(h!);
const posts = () => h!.sandbox.state.count("POST", "/calendars/events/block-slots");

describe("a create whose outcome is unknown", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });

  it("finds the block HighLevel made before the connection dropped, instead of making a second", async () => {
    h.sandbox.state.failNext(CREATE, { drop: "after" });
    const res = await api().post(SLOTS).send(SLOT).expect(201);
    const blocks = h.sandbox.state.blockSlots("loc-solo");
    expect(blocks).toHaveLength(1);
    expect(res.body.id).toBe(blocks[0]!.id);
    expect(posts()).toBe(1);
    expect(h.sandbox.state.count("GET", "/calendars/blocked-slots")).toBe(1);
  });

  it("sends it again when the look shows HighLevel never made it", async () => {
    h.sandbox.state.failNext(CREATE, { drop: "before" });
    await api().post(SLOTS).send(SLOT).expect(201);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);
    expect(posts()).toBe(2);
  });

  it("after a 5xx, looks, then re-sends: exactly one block", async () => {
    h.sandbox.state.failNext(CREATE, { status: 500, body: { message: "oops" } });
    await api().post(SLOTS).send(SLOT).expect(201);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);
    expect(posts()).toBe(2);
  });

  it("does not take a different block in the same window for its own", async () => {
    await api()
      .post(SLOTS)
      .send({ ...SLOT, title: "Something else" })
      .expect(201);
    h.sandbox.state.failNext(CREATE, { drop: "before" });
    const res = await api().post(SLOTS).send(SLOT).expect(201);
    expect(res.body.title).toBe(SLOT.title);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(2);
  });

  it("does not take a block with the same start and title but another end for its own", async () => {
    const longer = await api()
      .post(SLOTS)
      .send({ ...SLOT, endTime: "2030-05-01T14:00:00+02:00" })
      .expect(201);
    h.sandbox.state.failNext(CREATE, { drop: "before" });
    const res = await api().post(SLOTS).send(SLOT).expect(201);
    expect(res.body.id).not.toBe(longer.body.id);
    expect(Date.parse(res.body.endTime)).toBe(Date.parse(SLOT.endTime));
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(2);
  });

  it("gives up after bounded re-sends with 502 upstream_error and no block", async () => {
    h.sandbox.state.failNext(CREATE, { status: 503, body: { message: "down" } }, 10);
    const res = await api().post(SLOTS).send(SLOT).expect(502);
    expect(res.body.code).toBe("upstream_error");
    expect(posts()).toBe(3);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(0);
  });
});

describe("pacing under HighLevel's rate limit", () => {
  it("holds requests when HighLevel reports none left, so HighLevel never has to answer 429", async () => {
    const h = await start({ rateLimit: { burst: 4, intervalMs: 1500 } });
    for (let i = 0; i < 7; i++) {
      await api()
        .post(SLOTS)
        .send({ ...SLOT, title: `Block ${i}` })
        .expect(201);
    }
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(7);
    expect(h.sandbox.state.requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it("refuses with a 429 and the wait when a location's budget is spent for longer than a caller should wait", async () => {
    const h = await start();
    const pool = createRateBudgetPool(h.databaseUrl, h.services.log);
    try {
      const pacer = new RateLimitPacer(new RateBudget(pool, { perWindow: 2, windowMs: 60_000, daily: 1000 }));
      await pacer.acquire("loc-one");
      await pacer.acquire("loc-one");
      const refused = await pacer.acquire("loc-one").catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: "rate_limited", limit: "burst" });
      expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(59);
      expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(61);
      // Another location has its own budget.
      await expect(pacer.acquire("loc-other")).resolves.toBeUndefined();
    } finally {
      await pool.end();
    }
  });
});

describe("a queued create that waited past its lease", () => {
  it("sends nothing and ends rate-limited, so its item is put back instead of sent by two workers", async () => {
    const started = await start();
    const { locationId, ...body } = { locationId: "loc-solo", ...SLOT };
    const late = started.services.blockSlots.create(locationId, body, {
      origin: { origin: "bulk" },
      actor: { kind: "bulk_job", id: "job", name: "api" },
      // The lease this create was claimed under has already run out.
      sendBy: Date.now() - 1,
    });
    await expect(late).rejects.toMatchObject({ code: "rate_limited" });
    expect(posts()).toBe(0);
  });
});
