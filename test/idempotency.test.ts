import { Client } from "pg";
import { apiAs, installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { AGENCY, CREATE_REQUEST, SOLO, SOLO_SLOT, SOLO_SLOTS, withCalendars } from "./support/sandbox-fixtures";

const SLOT = SOLO_SLOT;
const SLOTS = SOLO_SLOTS;
const CREATE = CREATE_REQUEST;

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ sandbox: { companies: [withCalendars(SOLO, { "loc-solo": ["cal-1"] }), AGENCY] } });
  await installLocation(h, "loc-solo");
  h.sandbox.state.resetRequests();
});
afterEach(() => h.close());

const create = (key: string, body: object = SLOT, apiKey?: string) =>
  apiAs(h, apiKey).post(SLOTS).set("Idempotency-Key", key).send(body);
const posts = () => h.sandbox.state.count("POST", "/calendars/events/block-slots");

describe("Idempotency-Key on create", () => {
  it("replays the first answer for the same key and body, without calling HighLevel again", async () => {
    const first = await create("k-1").expect(201);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    const again = await create("k-1").expect(201);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.headers["content-type"]).toContain("application/json");
    expect(again.body).toEqual(first.body);
    // The same body with its fields in another order is the same request.
    const reordered = Object.fromEntries(Object.entries(SLOT).reverse());
    await create("k-1", reordered).expect(201);
    expect(posts()).toBe(1);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);
  });

  it("refuses the same key with a different body: 409 idempotency_conflict", async () => {
    await create("k-2").expect(201);
    const res = await create("k-2", { ...SLOT, title: "Other" }).expect(409);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body.code).toBe("idempotency_conflict");
    expect(res.body.detail).toBe(
      "This Idempotency-Key was already used with a different request. Use a new key for a new request.",
    );
    expect(posts()).toBe(1);
  });

  it("keeps keys apart per API key", async () => {
    const other = await h.services.apiKeys.create("second client", { scope: "all" });
    await create("shared").expect(201);
    const res = await create("shared", SLOT, other.key).expect(201);
    expect(res.headers["idempotent-replayed"]).toBeUndefined();
    expect(posts()).toBe(2);
  });

  it("lets only one of several simultaneous requests with one key do the work", async () => {
    const answers = await Promise.all([create("race"), create("race"), create("race")]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    for (const a of answers.filter((x) => x.status === 409)) expect(a.headers["retry-after"]).toBe("1");
    expect(posts()).toBe(1);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);
  });

  it("answers a second request 409 while the first with its key is still at work, and runs it once", async () => {
    const store = h.services.idempotency;
    let finish!: (answer: { status: number; body: unknown }) => void;
    const first = store.run("owner-1", "k-busy", "hash-1", () => new Promise((resolve) => (finish = resolve)));
    // The first holds the key once its row is there.
    while (!(await h.db.idempotencyRecord.findFirst({ where: { key: "k-busy" } }))) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const second = jest.fn(() => Promise.resolve({ status: 201, body: { id: "second" } }));
    await expect(store.run("owner-1", "k-busy", "hash-1", second)).rejects.toMatchObject({
      code: "idempotency_conflict",
      message: "A request with this Idempotency-Key is still being answered; retry in a moment.",
      retryAfterSeconds: 1,
    });
    expect(second).not.toHaveBeenCalled();
    finish({ status: 201, body: { id: "first" } });
    expect(await first).toEqual({ status: 201, body: { id: "first" }, replayed: false });
    expect(await store.run("owner-1", "k-busy", "hash-1", second)).toMatchObject({
      body: { id: "first" },
      replayed: true,
    });
    expect(second).not.toHaveBeenCalled();
  });

  it("does not store a failure of the app's own (500): a retry with the key runs again", async () => {
    const store = h.services.idempotency;
    const bug = () => Promise.reject(new TypeError("a bug"));
    await expect(store.run("owner-1", "k-bug", "hash-1", bug)).rejects.toThrow("a bug");
    const retry = await store.run("owner-1", "k-bug", "hash-1", () =>
      Promise.resolve({ status: 201, body: { id: "made" } }),
    );
    expect(retry).toEqual({ status: 201, body: { id: "made" }, replayed: false });
  });

  it.each([400, 422])("replays HighLevel's %i too: the same request would be refused again", async (status) => {
    h.sandbox.state.failNext(CREATE, { status, body: { statusCode: status, message: ["closed that day"] } });
    const first = await create("k-refused").expect(status);
    const again = await create("k-refused").expect(status);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.headers["content-type"]).toContain("application/problem+json");
    expect(again.body).toEqual(first.body);
    expect(posts()).toBe(1);
  });

  it("does not store refusals an install changes: the retry after (re)installing does the work", async () => {
    const elsewhere = () => apiAs(h).post("/api/locations/loc-a/block-slots").set("Idempotency-Key", "k-a").send(SLOT);
    expect((await elsewhere().expect(404)).body.code).toBe("location_not_installed");
    await installLocation(h, "loc-a");
    expect((await elsewhere().expect(201)).headers["idempotent-replayed"]).toBeUndefined();

    await h.db.location.update({ where: { id: "loc-solo" }, data: { tokenExpiresAt: new Date(Date.now() - 60_000) } });
    h.sandbox.state.revokeRefreshTokensFor("loc-solo");
    expect((await create("k-reinstall").expect(409)).body.code).toBe("reauthorization_required");
    await installLocation(h, "loc-solo");
    expect((await create("k-reinstall").expect(201)).headers["idempotent-replayed"]).toBeUndefined();
  });

  it.each([
    ["connecting", "location_connecting"],
    ["inactive", "location_inactive"],
  ] as const)(
    "does not store a refusal while the location is %s: the retry after does the work",
    async (status, code) => {
      await h.db.location.update({ where: { id: "loc-solo" }, data: { status, updatedAt: new Date() } });
      h.services.tokenService.forgetAll();
      expect((await create(`k-${status}`)).body.code).toBe(code);
      await h.db.location.update({ where: { id: "loc-solo" }, data: { status: "active" } });
      const retry = await create(`k-${status}`).expect(201);
      expect(retry.headers["idempotent-replayed"]).toBeUndefined();
      expect(posts()).toBe(1);
    },
  );

  it("without a key, sends each create at once: no look first, no replay", async () => {
    for (const title of ["One", "Two"]) {
      const res = await apiAs(h)
        .post(SLOTS)
        .send({ ...SLOT, title })
        .expect(201);
      expect(res.headers["idempotent-replayed"]).toBeUndefined();
    }
    expect(posts()).toBe(2);
    expect(h.sandbox.state.count("GET", "/calendars/blocked-slots")).toBe(0);
  });

  it("after a 502 whose outcome was unknown, a retry with the same key finds the block instead of making another", async () => {
    // The create reaches HighLevel but its answer is lost, and HighLevel cannot be asked for a while.
    h.sandbox.state.failNext(CREATE, { drop: "after" });
    h.sandbox.state.failNext({ method: "GET", path: "/calendars/blocked-slots" }, { status: 503, body: {} }, 3);
    await create("k-lost").expect(502);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);

    const retry = await create("k-lost").expect(201);
    expect(retry.body.id).toBe(h.sandbox.state.blockSlots("loc-solo")[0]!.id);
    expect(posts()).toBe(1);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);
  });

  it("rejects a malformed key with 400 naming the header", async () => {
    for (const key of ["x".repeat(256), "two words"]) {
      const res = await create(key).expect(400);
      expect(res.body.errors).toEqual([
        { path: "Idempotency-Key", message: "must be 1 to 255 visible ASCII characters" },
      ]);
    }
    expect(posts()).toBe(0);
    await create("x".repeat(255)).expect(201);
  });

  it("keeps keys at least 24 hours", async () => {
    await create("old").expect(201);
    await create("older").expect(201);
    await h.db.idempotencyRecord.update({
      where: { owner_key: { owner: (await h.db.idempotencyRecord.findFirstOrThrow()).owner, key: "old" } },
      data: { createdAt: new Date(Date.now() - 23.9 * 3600_000) },
    });
    await h.db.idempotencyRecord.updateMany({
      where: { key: "older" },
      data: { createdAt: new Date(Date.now() - 26 * 3600_000) },
    });
    expect(await h.services.idempotency.purge(1_000)).toBe(1);
    const res = await create("old").expect(201);
    expect(res.headers["idempotent-replayed"]).toBe("true");
  });

  it("does not store a 429 for replay: a retry with the same key does the work", async () => {
    h.sandbox.state.failNext(CREATE, {
      status: 429,
      headers: { "Retry-After": "60" },
      body: { statusCode: 429, message: "Too many requests" },
    });
    const limited = await create("k-429").expect(429);
    expect(limited.body.code).toBe("rate_limited");
    const retry = await create("k-429").expect(201);
    expect(retry.headers["idempotent-replayed"]).toBeUndefined();
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);
  });

  it("does not replay one location's answer for the same key and body sent to another location", async () => {
    await installLocation(h, "loc-a");
    const first = await create("k-where").expect(201);
    const elsewhere = await apiAs(h)
      .post("/api/locations/loc-a/block-slots")
      .set("Idempotency-Key", "k-where")
      .send(SLOT)
      .expect(409);
    expect(elsewhere.headers["idempotent-replayed"]).toBeUndefined();
    expect(elsewhere.body.code).toBe("idempotency_conflict");
    expect(JSON.stringify(elsewhere.body)).not.toContain(first.body.id);
    expect(h.sandbox.state.blockSlots("loc-a")).toHaveLength(0);
  });

  it("lets only one of several retries take over an attempt that died: one create", async () => {
    // The first attempt's create never reached HighLevel, and it could not look: 502, key released.
    h.sandbox.state.failNext(CREATE, { drop: "before" });
    h.sandbox.state.failNext({ method: "GET", path: "/calendars/blocked-slots" }, { status: 503, body: {} }, 3);
    await create("k-dead").expect(502);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(0);

    // Three retries reach the take-over together: each has read the released key before any takes it.
    const lock = new Client({ connectionString: h.databaseUrl });
    await lock.connect();
    let answers;
    try {
      await lock.query("BEGIN");
      await lock.query("SELECT 1 FROM idempotency_keys WHERE key = 'k-dead' FOR UPDATE");
      const retries = Promise.all([1, 2, 3].map(() => create("k-dead").then((r) => r)));
      while ((await waitingOnLocks(lock)) < 3) await new Promise((r) => setTimeout(r, 20));
      await lock.query("COMMIT");
      answers = await retries;
    } finally {
      await lock.end();
    }
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
    for (const lost of answers.filter((a) => a.status === 409)) {
      expect(lost.body.code).toBe("idempotency_conflict");
      expect(lost.headers["retry-after"]).toBe("1");
    }
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);
    expect(posts()).toBe(2);
  });
});

describe("Idempotency-Key on what makes a job or a plan", () => {
  /** As a crash leaves it: the effect committed, the answer never stored, the attempt's hold run out. */
  const answerLost = (key: string) =>
    h.db.idempotencyRecord.updateMany({
      where: { key },
      data: { status: null, body: undefined, lockedUntil: new Date(0) },
    });

  it("a trigger retried after its answer was lost finds the job the first attempt queued", async () => {
    const body = { locationId: "loc-solo", ...SLOT };
    const first = await apiAs(h).post("/webhooks/trigger").set("Idempotency-Key", "t-1").send(body).expect(202);
    await answerLost("t-1");
    const again = await apiAs(h).post("/webhooks/trigger").set("Idempotency-Key", "t-1").send(body).expect(202);
    expect(again.body.id).toBe(first.body.id);
    expect(await h.db.bulkJob.count({ where: { source: "trigger" } })).toBe(1);
  });

  it("a plan retried after its answer was lost is the plan the first attempt made", async () => {
    const day = SLOT.startTime.slice(0, 10);
    const body = {
      title: "Closed for the audit",
      targets: [{ locationId: "loc-solo", calendars: "all" }],
      schedule: { start: `${day}T08:00`, end: `${day}T09:00` },
      timeZone: "UTC",
    };
    const first = await apiAs(h).post("/api/block-plans").set("Idempotency-Key", "p-1").send(body).expect(202);
    await answerLost("p-1");
    const again = await apiAs(h).post("/api/block-plans").set("Idempotency-Key", "p-1").send(body).expect(202);
    expect(again.body.id).toBe(first.body.id);
    expect(await h.db.blockPlan.count({ where: { title: "Closed for the audit" } })).toBe(1);
  });
});

/** Sessions of this database waiting for a lock (the snapshot is cleared: the caller is in a transaction). */
async function waitingOnLocks(client: Client): Promise<number> {
  await client.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return rows[0]!.n;
}
