import { apiAs, installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { CREATE_REQUEST, SOLO, SOLO_SLOT, SOLO_SLOTS } from "./support/sandbox-fixtures";

const SLOT = SOLO_SLOT;
const SLOTS = SOLO_SLOTS;
const CREATE = CREATE_REQUEST;

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ sandbox: { companies: [SOLO] } });
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

  it("replays HighLevel's 422 too: the same request would be refused again", async () => {
    h.sandbox.state.failNext(CREATE, { status: 422, body: { statusCode: 422, message: ["closed that day"] } });
    const first = await create("k-422").expect(422);
    const again = await create("k-422").expect(422);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(posts()).toBe(1);
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
    const res = await create("x".repeat(256)).expect(400);
    expect(res.body.errors).toEqual([{ path: "Idempotency-Key", message: expect.any(String) }]);
    expect(posts()).toBe(0);
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
});
