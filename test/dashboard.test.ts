import request from "supertest";
import { createApp } from "../src/app";
import { createDb, type Db } from "../src/db/client";
import { createLogger } from "../src/logger";
import { createServices, type Services } from "../src/services";
import { apiAs, installLocation } from "./support/api";
import { LogCapture, startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { SOLO, SOLO_SLOT, SOLO_SLOTS } from "./support/sandbox-fixtures";
import { deliver, event, webhookSigners } from "./support/webhooks";

const signers = webhookSigners();

/** What the buckets hold for `series{label}`, over every bucket. */
async function stored(db: Db, series: string, label: string) {
  const [row] = await db.$queryRaw<{ total: number; samples: number; max: number | null }[]>`
    SELECT coalesce(sum(total), 0)::float8 AS total, coalesce(sum(samples), 0)::int AS samples, max(max) AS max
      FROM metric_buckets WHERE series = ${series} AND label = ${label}`;
  return row!;
}

async function signIn(h: Harness, key = TEST_API_KEY): Promise<string> {
  const res = await request(h.app).post("/console/login").type("form").send({ key }).expect(303);
  const cookies = (res.headers["set-cookie"] as unknown as string[]) ?? [];
  return cookies.find((c) => c.startsWith("hlbs_console="))!.split(";")[0]!;
}

/** The figure shown beside a chart under `name`. */
const figure = (html: string, name: string) => new RegExp(`<dt>${name}</dt><dd>([^<]*)</dd>`).exec(html)?.[1];

describe("dashboard counts from two processes on one database", () => {
  let h: Harness;
  let other: Services;
  let otherDb: Db;
  let otherApp: ReturnType<typeof createApp>;

  beforeAll(async () => {
    h = await startHarness({
      sandbox: { companies: [SOLO] },
      env: { ...signers.env, WORKER_CONCURRENCY: "0" },
      jobs: true,
    });
    await installLocation(h, "loc-solo");
    // A second app process: its own services and counts, the same PostgreSQL and HighLevel.
    otherDb = createDb(h.databaseUrl, { max: 3 });
    other = createServices(h.config, otherDb, createLogger("warn", new LogCapture()), h.databaseUrl);
    otherApp = createApp(other);
    await Promise.all([h.services.buckets.flush(), other.buckets.flush()]);
  });
  afterAll(async () => {
    await other.close();
    await otherDb.$disconnect();
    await h.close();
  });

  it("adds up a block, a renewal and webhooks counted in either process", async () => {
    const before = {
      blocks: await stored(h.db, "blocks_created", "api"),
      renewals: await stored(h.db, "token_refreshes", "ok"),
      processed: await stored(h.db, "webhook_deliveries", "processed"),
      calls: await stored(h.db, "highlevel_requests", "ok"),
      lag: await stored(h.db, "webhook_lag_seconds", ""),
    };
    // This process creates a block; the other renews a token and works a delivery; both work one.
    await apiAs(h).post(SOLO_SLOTS).send(SOLO_SLOT).expect(201);
    await other.tokenService.renew("location", "loc-solo", { minValidityMs: 10 * 365 * 86_400_000 });
    const twoMinutesAgo = new Date(Date.now() - 120_000).toISOString();
    const mine = event({ type: "NoteCreate", locationId: "loc-solo", timestamp: twoMinutesAgo });
    const theirs = event({ type: "NoteCreate", locationId: "loc-solo" });
    await deliver(h, signers, mine).expect(200);
    await deliver({ ...h, app: otherApp }, signers, theirs).expect(200);
    await h.services.webhooks.process(mine.webhookId);
    await other.webhooks.process(theirs.webhookId);
    await Promise.all([h.services.buckets.flush(), other.buckets.flush()]);

    expect((await stored(h.db, "blocks_created", "api")).total - before.blocks.total).toBe(1);
    expect((await stored(h.db, "token_refreshes", "ok")).total - before.renewals.total).toBe(1);
    // No handler works NoteCreate: both are "ignored", one counted in each process.
    expect((await stored(h.db, "webhook_deliveries", "ignored")).total).toBe(2);
    expect((await stored(h.db, "webhook_deliveries", "processed")).total).toBe(before.processed.total);
    // The create and the renewal were calls to HighLevel, from different processes.
    expect((await stored(h.db, "highlevel_requests", "ok")).total - before.calls.total).toBeGreaterThanOrEqual(2);
    const lag = await stored(h.db, "webhook_lag_seconds", "");
    expect(lag.samples - before.lag.samples).toBe(2);
    // Lag runs from HighLevel's timestamp when the delivery has one: two minutes and a little.
    expect(lag.max).toBeGreaterThanOrEqual(120);
    expect(lag.max).toBeLessThan(180);
  });

  it("samples the queue once per minute whichever process gets there first", async () => {
    await deliver(h, signers, event({ type: "NoteCreate", locationId: "loc-solo" })).expect(200);
    const first = await h.services.queueSampler.sampleOnce();
    const second = await other.queueSampler.sampleOnce();
    expect([first, second]).toEqual([true, false]);
    await h.services.buckets.flush();
    const waiting = await stored(h.db, "queue_waiting", "webhook");
    expect(waiting.samples).toBe(1);
    expect(waiting.max).toBeGreaterThanOrEqual(1);
    expect((await stored(h.db, "queue_oldest_seconds", "webhook")).samples).toBe(1);
    // The dashboard names each queue in words; the queue's own name is /metrics' label.
    const res = await request(h.app)
      .get("/console/dashboard")
      .set("Cookie", await signIn(h))
      .expect(200);
    const depth = res.text.slice(res.text.indexOf('id="queue-depth-title"'), res.text.indexOf('id="queue-age-title"'));
    expect(depth).toContain("Webhook deliveries</li>");
    expect(depth).toContain("Agency installs listing sub-accounts</li>");
    expect(depth).not.toMatch(/>(webhook|install-discovery)</);
  });

  it("the dashboard draws what the buckets hold, with totals beside each chart", async () => {
    const blocks = (await stored(h.db, "blocks_created", "api")).total;
    const res = await request(h.app)
      .get("/console/dashboard")
      .set("Cookie", [await signIn(h), "console_tz=Europe/Paris"])
      .expect(200);
    expect(res.text).toContain('<svg class="chart"');
    expect(res.text).toContain('<title id="blocks-title">Blocks created</title>');
    expect(figure(res.text, "Blocks")).toBe(String(blocks));
    expect(figure(res.text, "Renewals")).toBe("1");
    expect(res.text).toMatch(/Times in <strong>Europe\/Paris \(UTC\+0[12]:00\)<\/strong>/);
    expect(res.text).toContain('aria-current="page">Dashboard</a>');
    const week = await request(h.app)
      .get("/console/dashboard?range=7d")
      .set("Cookie", await signIn(h))
      .expect(200);
    expect(figure(week.text, "Blocks")).toBe(String(blocks));
    expect(week.text).toContain("one point per hour");
  });
});

describe("dashboard page", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: { companies: [SOLO] } });
  });
  afterAll(() => h.close());

  it("says there is no data yet rather than drawing empty charts", async () => {
    const res = await request(h.app)
      .get("/console/dashboard")
      .set("Cookie", await signIn(h))
      .expect(200);
    expect(res.text).not.toContain('<svg class="chart"');
    expect(res.text.match(/No data yet/g)).toHaveLength(8);
  });

  it("is for signed-in full-access keys only", async () => {
    const anonymous = await request(h.app).get("/console/dashboard").expect(200);
    expect(anonymous.text).toContain('<label for="key">API key</label>');
    await installLocation(h, "loc-solo");
    const scoped = await h.services.apiKeys.create("one clinic", { scope: "location", locationId: "loc-solo" });
    const res = await request(h.app)
      .get("/console/dashboard")
      .set("Cookie", await signIn(h, scoped.key))
      .expect(403);
    expect(res.text).toContain("Only full-access keys see the dashboard");
    expect(res.text).not.toContain("No data yet");
  });
});
