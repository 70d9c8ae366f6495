import request from "supertest";
import { createApp } from "../src/app";
import { QUEUES } from "../src/jobs/queue";
import { metricsAccess } from "../src/metrics/routes";
import { apiAs, installLocation } from "./support/api";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { CREATE_REQUEST, SOLO, SOLO_SLOT, SOLO_SLOTS } from "./support/sandbox-fixtures";
import { deliver, event, webhookSigners } from "./support/webhooks";

const METRICS_TOKEN = "metrics-token-0123456789-abcdefghijklmnop";
const signers = webhookSigners();

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

let h: Harness;
const scrape = async () =>
  parse((await request(h.app).get("/metrics").auth(METRICS_TOKEN, { type: "bearer" }).expect(200)).text);

/** How much `name{labels}` moved while `act` ran. */
async function moved(name: string, labels: Record<string, string>, act: () => Promise<unknown>): Promise<number> {
  const before = total(await scrape(), name, labels);
  await act();
  return total(await scrape(), name, labels) - before;
}

beforeAll(async () => {
  h = await startHarness({
    sandbox: { companies: [SOLO] },
    // The queue is started (its tables exist) but not worked here: the tests run deliveries themselves.
    env: { ...signers.env, METRICS_TOKEN, WORKER_CONCURRENCY: "0" },
    jobs: true,
  });
  await installLocation(h, "loc-solo");
});
afterAll(async () => {
  const invalid = h.sandbox.state.invalidRequests();
  await h.close();
  expect(invalid).toEqual([]);
});

describe("who may read /metrics", () => {
  it("METRICS_TOKEN and a full-access key may; a wrong token may not", async () => {
    const res = await request(h.app).get("/metrics").auth(METRICS_TOKEN, { type: "bearer" }).expect(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.text).toContain("process_cpu_seconds_total");
    await request(h.app).get("/metrics").auth(TEST_API_KEY, { type: "bearer" }).expect(200);
    const refused = await request(h.app).get("/metrics").auth("not-the-token", { type: "bearer" }).expect(401);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
  });

  it("a key scoped to one location is refused: the series describe every tenant", async () => {
    const key = await h.services.apiKeys.create("one clinic", { scope: "location", locationId: "loc-solo" });
    const res = await request(h.app).get("/metrics").auth(key.key, { type: "bearer" }).expect(403);
    expect(res.body.code).toBe("forbidden");
  });

  it("with METRICS_TOKEN set, the token is needed even on this host", async () => {
    const refused = await request(h.app).get("/metrics").expect(401);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const keys = h.services.apiKeys;
    const ask = (clientIp: string) =>
      metricsAccess({ authorization: undefined, clientIp, forwarded: false }, METRICS_TOKEN, keys);
    expect(await ask("127.0.0.1")).toBe("unauthorized");
    expect(await ask("::1")).toBe("unauthorized");
  });

  it("with no METRICS_TOKEN, without credentials only a client on this host is answered, and not one a proxy forwarded", async () => {
    const open = createApp({ ...h.services, config: { ...h.services.config, METRICS_TOKEN: undefined } });
    await request(open).get("/metrics").expect(200);
    // A proxy on this host passed these on: the client is not local, whatever TRUST_PROXY says.
    await request(open).get("/metrics").set("X-Forwarded-For", "203.0.113.9").expect(401);
    await request(open).get("/metrics").set("Forwarded", "for=127.0.0.1").expect(401);
    const keys = h.services.apiKeys;
    const ask = (clientIp: string) =>
      metricsAccess({ authorization: undefined, clientIp, forwarded: false }, undefined, keys);
    expect(await ask("10.1.2.3")).toBe("unauthorized");
    expect(await ask("::1")).toBe("allowed");
    expect(await ask("127.0.0.1")).toBe("allowed");
    expect(await ask("::ffff:127.0.0.1")).toBe("allowed");
  });

  it("with no METRICS_TOKEN set a full-access key is still accepted", async () => {
    const keys = h.services.apiKeys;
    const ask = (authorization: string) =>
      metricsAccess({ authorization, clientIp: "10.1.2.3", forwarded: false }, undefined, keys);
    expect(await ask(`Bearer ${TEST_API_KEY}`)).toBe("allowed");
    expect(await ask(`Bearer ${METRICS_TOKEN}`)).toBe("unauthorized");
  });
});

describe("the series move when their event happens", () => {
  it("a block created: the API's route pattern and HighLevel's createBlockSlot are counted", async () => {
    const before = await scrape();
    await apiAs(h).post(SOLO_SLOTS).send(SOLO_SLOT).expect(201);
    const after = await scrape();
    const route = { method: "POST", route: "/api/locations/:locationId/block-slots" };
    const diff = (name: string, labels: Record<string, string>) =>
      total(after, name, labels) - total(before, name, labels);
    expect(diff("http_requests_total", { ...route, status: "201" })).toBe(1);
    expect(diff("http_request_duration_seconds_count", route)).toBe(1);
    expect(diff("highlevel_requests_total", { operation: "createBlockSlot", status: "201" })).toBe(1);
    expect(diff("highlevel_request_duration_seconds_count", { operation: "createBlockSlot" })).toBe(1);
  });

  it("a path no route knows is counted as unmatched, not by its path", async () => {
    const n = await moved("http_requests_total", { route: "unmatched", status: "404" }, () =>
      request(h.app).get("/no/such/page-123").expect(404),
    );
    expect(n).toBe(1);
  });

  it("a 429 from HighLevel", async () => {
    h.sandbox.state.failNext(CREATE_REQUEST, {
      status: 429,
      body: { statusCode: 429, message: "Too many requests" },
      headers: { "Retry-After": "1" },
    });
    const before = await scrape();
    await apiAs(h)
      .post(SOLO_SLOTS)
      .send({ ...SOLO_SLOT, startTime: "2030-05-02T12:00:00+02:00", endTime: "2030-05-02T13:00:00+02:00" })
      .expect(201);
    const after = await scrape();
    expect(total(after, "highlevel_429_total") - total(before, "highlevel_429_total")).toBe(1);
    const answered429 = { operation: "createBlockSlot", status: "429" };
    expect(
      total(after, "highlevel_requests_total", answered429) - total(before, "highlevel_requests_total", answered429),
    ).toBe(1);
  });

  it("a token refresh, by owner and outcome", async () => {
    const renew = () => h.services.tokenService.renew("location", "loc-solo", { minValidityMs: 10 * 365 * 86_400_000 });
    expect(await moved("token_refreshes_total", { owner: "location", outcome: "ok" }, renew)).toBe(1);
    h.sandbox.state.failNext(
      { method: "POST", path: "/oauth/token" },
      { status: 400, body: { error: "invalid_grant", error_description: "refresh token revoked" } },
    );
    const refused = await moved("token_refreshes_total", { owner: "location", outcome: "invalid_grant" }, () =>
      expect(renew()).rejects.toMatchObject({ code: "reauthorization_required" }),
    );
    expect(refused).toBe(1);
    // Put the location back as it was for the tests after this one.
    await h.db.location.update({ where: { id: "loc-solo" }, data: { status: "active" } });
  });

  it("installations by status and the queue's depth are read at each scrape", async () => {
    const delivery = event({ type: "LocationUpdate", id: "loc-solo", companyId: SOLO.id, name: "Solo Clinic" });
    await deliver(h, signers, delivery).expect(200);
    const samples = await scrape();
    expect(total(samples, "installations", { status: "active" })).toBe(1);
    expect(total(samples, "queue_jobs", { queue: "webhook", state: "created" })).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => s.name === "queue_oldest_job_age_seconds" && s.labels.queue === "webhook")).toBe(true);
    await h.services.webhooks.process(delivery.webhookId);
  });

  it("the oldest job's age counts work that is due, not work put off until a limit resets", async () => {
    const oldest = async () =>
      total(await scrape(), "queue_oldest_job_age_seconds", { queue: QUEUES.installDiscovery });
    // Put back ten minutes ago until HighLevel's daily limit resets, in fifty: nothing is late.
    await h.services.queue.send(QUEUES.installDiscovery, { installId: "never-worked" }, { startAfter: new Date() });
    await h.db.$executeRaw`UPDATE pgboss.job SET created_on = now() - interval '10 minutes',
                                   start_after = now() + interval '50 minutes' WHERE name = ${QUEUES.installDiscovery}`;
    try {
      expect(total(await scrape(), "queue_jobs", { queue: QUEUES.installDiscovery, state: "created" })).toBe(1);
      expect(await oldest()).toBe(0);
      // Its time came two minutes ago and no worker has taken it: that is the wait an operator must see.
      await h.db.$executeRaw`UPDATE pgboss.job SET start_after = now() - interval '2 minutes'
                               WHERE name = ${QUEUES.installDiscovery}`;
      const age = await oldest();
      expect(age).toBeGreaterThanOrEqual(120);
      expect(age).toBeLessThan(300);
    } finally {
      await h.db.$executeRaw`DELETE FROM pgboss.job WHERE name = ${QUEUES.installDiscovery}`;
    }
  });

  it("a webhook delivery by its type; a type no handler knows is `other`", async () => {
    const known = event({ type: "LocationUpdate", id: "loc-solo", companyId: SOLO.id, name: "Solo Clinic" });
    const unknown = event({ type: "ContactCreate", id: "contact-1", locationId: "loc-solo" });
    const before = await scrape();
    for (const delivery of [known, unknown]) {
      await deliver(h, signers, delivery).expect(200);
      await h.services.webhooks.process(delivery.webhookId);
    }
    const after = await scrape();
    const diff = (labels: Record<string, string>) =>
      total(after, "webhook_deliveries_total", labels) - total(before, "webhook_deliveries_total", labels);
    expect(diff({ type: "LocationUpdate", outcome: "processed" })).toBe(1);
    expect(diff({ type: "other", outcome: "ignored" })).toBe(1);
    expect(after.some((s) => s.labels.type === "ContactCreate")).toBe(false);
  });

  it("no label carries an id of a location, company, key or delivery", async () => {
    const key = await h.services.apiKeys.create("for the scrape", { scope: "all" });
    await apiAs(h, key.key).get("/api/installations").expect(200);
    await apiAs(h, key.key)
      .post(SOLO_SLOTS)
      .send({ ...SOLO_SLOT, startTime: "2030-05-03T12:00:00+02:00", endTime: "2030-05-03T13:00:00+02:00" })
      .expect(201);
    const values = new Set((await scrape()).flatMap((s) => Object.values(s.labels)));
    for (const id of ["loc-solo", SOLO.id, key.id, key.key, TEST_API_KEY, "cal-1"]) {
      expect([...values].filter((v) => v.includes(id))).toEqual([]);
    }
  });
});

describe("waits for the shared rate limit", () => {
  let limited: Harness;
  afterAll(() => limited?.close());

  it("a call that must wait for a slot is counted", async () => {
    limited = await startHarness({
      sandbox: { companies: [SOLO] },
      env: { HIGHLEVEL_BURST_LIMIT: "1", HIGHLEVEL_BURST_WINDOW_MS: "1000" },
    });
    await installLocation(limited, "loc-solo");
    const slot = (day: number) => ({
      ...SOLO_SLOT,
      startTime: `2030-06-0${day}T12:00:00+02:00`,
      endTime: `2030-06-0${day}T13:00:00+02:00`,
    });
    await Promise.all([1, 2].map((day) => apiAs(limited).post(SOLO_SLOTS).send(slot(day)).expect(201)));
    const res = await request(limited.app).get("/metrics").auth(TEST_API_KEY, { type: "bearer" }).expect(200);
    expect(total(parse(res.text), "highlevel_rate_limit_waits_total")).toBeGreaterThanOrEqual(1);
  });
});
