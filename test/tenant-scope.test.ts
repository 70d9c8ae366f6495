/**
 * No tenant reaches another's data: a scoped key naming a location the app knows, but that belongs
 * to another agency, is refused before anything is stored or sent.
 */
import { apiAs, installCompany } from "./support/api";
import { bigAgency, itemsFor } from "./support/bulk";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { AGENCY, withCalendars } from "./support/sandbox-fixtures";

const BULK = "/api/block-slots/bulk";
const RULES = "/api/blocking-rules";
const rule = (source: string, target: string) => ({
  name: "Dr. Lee",
  source: { locationId: source, calendarId: "cal-1" },
  targets: [{ locationId: target, assignedUserId: "lee" }],
});

let h: Harness;
let agencyKey: string;
let locationKey: string;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [withCalendars(AGENCY, { "loc-a": ["cal-1"] }), bigAgency(2)] } });
  // Both agencies installed: every location named below is known to the app.
  await installCompany(h, "agency-1");
  await installCompany(h, "agency-big");
  agencyKey = (await h.services.apiKeys.create("Bright Smiles", { scope: "company", companyId: "agency-1" })).key;
  locationKey = (await h.services.apiKeys.create("Downtown", { scope: "location", locationId: "loc-a" })).key;
});
afterAll(() => h.close());
beforeEach(() => h.sandbox.state.resetRequests());

const stored = async () => ({ jobs: await h.db.bulkJob.count(), rules: await h.db.blockingRule.count() });

describe("a company key and another agency's known location", () => {
  it("may submit a bulk job over its own agency's locations", async () => {
    await apiAs(h, agencyKey)
      .post(BULK)
      .send({ items: itemsFor(["loc-a", "loc-b"], 2) })
      .expect(202);
  });

  it("gets 403 for a bulk job naming it, and nothing is queued", async () => {
    const before = await stored();
    const res = await apiAs(h, agencyKey)
      .post(BULK)
      .send({ items: itemsFor(["loc-a", "loc-0"], 2) })
      .expect(403);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body).toMatchObject({ code: "forbidden" });
    expect(res.body.detail).toContain("loc-0");
    expect(res.body.detail).not.toContain("loc-a");
    expect(await stored()).toEqual(before);
    expect(h.sandbox.state.requests).toEqual([]);
  });

  it("gets 403 for a blocking rule with it as target or source, and no rule is stored", async () => {
    const before = await stored();
    await apiAs(h, agencyKey).post(RULES).send(rule("loc-a", "loc-b")).expect(201);
    for (const body of [rule("loc-a", "loc-0"), rule("loc-1", "loc-b")]) {
      const res = await apiAs(h, agencyKey).post(RULES).send(body).expect(403);
      expect(res.body.code).toBe("forbidden");
    }
    expect(await stored()).toEqual({ ...before, rules: before.rules + 1 });
  });

  it("gets 403 for a single block on it, without HighLevel being called", async () => {
    const slot = itemsFor(["loc-0"], 1)[0]!;
    const { locationId, ...body } = slot;
    await apiAs(h, agencyKey).post(`/api/locations/${locationId}/block-slots`).send(body).expect(403);
    expect(h.sandbox.state.requests).toEqual([]);
  });
});

describe("a full-access key", () => {
  it("reaches any location: one never installed is 404 location_not_installed, not 403", async () => {
    const { locationId: _where, ...body } = itemsFor(["loc-0"], 1)[0]!;
    const res = await apiAs(h).post("/api/locations/loc-never-installed/block-slots").send(body).expect(404);
    expect(res.body.code).toBe("location_not_installed");
    await apiAs(h)
      .post(BULK)
      .send({ items: itemsFor(["loc-never-installed"], 1) })
      .expect(202);
  });
});

describe("a location key and its agency's other locations", () => {
  it("gets 403 for a bulk job or rule naming a sibling location", async () => {
    const before = await stored();
    await apiAs(h, locationKey)
      .post(BULK)
      .send({ items: itemsFor(["loc-a"], 1) })
      .expect(202);
    const res = await apiAs(h, locationKey)
      .post(BULK)
      .send({ items: itemsFor(["loc-a", "loc-b"], 2) })
      .expect(403);
    expect(res.body.detail).toContain("loc-b");
    await apiAs(h, locationKey).post(RULES).send(rule("loc-a", "loc-b")).expect(403);
    expect(await stored()).toEqual({ ...before, jobs: before.jobs + 1 });
  });
});

describe("what a key may list", () => {
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();

  it("a company key lists its own agency and locations only; a full key lists both agencies", async () => {
    const own = await apiAs(h, agencyKey).get("/api/installations").expect(200);
    expect(ids(own.body.companies)).toEqual(["agency-1"]);
    expect(own.body.locations.every((l: { companyId: string }) => l.companyId === "agency-1")).toBe(true);
    const all = await apiAs(h).get("/api/installations").expect(200);
    expect(ids(all.body.companies)).toEqual(["agency-1", "agency-big"]);
  });

  it("a scoped key reads only its own locations' audit records", async () => {
    const everything = (await apiAs(h).get("/api/audit").query({ limit: 100 }).expect(200)).body.events;
    expect(everything.some((e: { companyId: string | null }) => e.companyId === "agency-big")).toBe(true);
    const company = (await apiAs(h, agencyKey).get("/api/audit").query({ limit: 100 }).expect(200)).body.events;
    expect(company.length).toBeGreaterThan(0);
    expect(company.every((e: { companyId: string | null }) => e.companyId === "agency-1")).toBe(true);
    const location = (await apiAs(h, locationKey).get("/api/audit").query({ limit: 100 }).expect(200)).body.events;
    expect(location.length).toBeGreaterThan(0);
    expect(location.every((e: { locationId: string | null }) => e.locationId === "loc-a")).toBe(true);
  });
});

describe("blocking rules belong to where they act, not to the key that made them", () => {
  const listed = async (key: string) =>
    ((await apiAs(h, key).get(RULES).expect(200)).body.rules as { id: string }[]).map((r) => r.id);

  it("the agency's key lists and deletes a rule an operator made over its sub-accounts", async () => {
    const made = (await apiAs(h).post(RULES).send(rule("loc-a", "loc-b")).expect(201)).body as { id: string };
    const rotated = (await h.services.apiKeys.create("Bright Smiles 2027", { scope: "company", companyId: "agency-1" }))
      .key;
    expect(await listed(rotated)).toContain(made.id);
    // Not the Downtown key's: the rule also blocks Uptown's time.
    expect(await listed(locationKey)).not.toContain(made.id);
    await apiAs(h, locationKey).delete(`${RULES}/${made.id}`).expect(404);
    await apiAs(h, rotated).delete(`${RULES}/${made.id}`).expect(204);
    expect(await h.db.blockingRule.count({ where: { id: made.id } })).toBe(0);
  });

  it("a rule reaching another agency stays with full-access keys; one within a sub-account is its key's too", async () => {
    const across = (await apiAs(h).post(RULES).send(rule("loc-a", "loc-0")).expect(201)).body as { id: string };
    expect(await listed(agencyKey)).not.toContain(across.id);
    await apiAs(h, agencyKey).delete(`${RULES}/${across.id}`).expect(404);
    expect(await listed(TEST_API_KEY)).toContain(across.id);
    await apiAs(h).delete(`${RULES}/${across.id}`).expect(204);

    const within = (await apiAs(h, agencyKey).post(RULES).send(rule("loc-a", "loc-a")).expect(201)).body as {
      id: string;
    };
    expect(await listed(agencyKey)).toContain(within.id);
    expect(await listed(locationKey)).toContain(within.id);
    await apiAs(h, locationKey).delete(`${RULES}/${within.id}`).expect(204);
  });

  it("a rule whose sub-account moved to another agency is no longer the old agency's to delete", async () => {
    const made = (await apiAs(h, agencyKey).post(RULES).send(rule("loc-a", "loc-b")).expect(201)).body as {
      id: string;
    };
    await h.db.location.update({ where: { id: "loc-b" }, data: { companyId: "agency-big" } });
    try {
      await apiAs(h, agencyKey).delete(`${RULES}/${made.id}`).expect(404);
    } finally {
      await h.db.location.update({ where: { id: "loc-b" }, data: { companyId: "agency-1" } });
    }
    await apiAs(h, agencyKey).delete(`${RULES}/${made.id}`).expect(204);
  });
});

describe("a refusal says what the key may reach and what was outside it", () => {
  const refusal = async (key: string, locations: string[]) =>
    (
      await apiAs(h, key)
        .post(BULK)
        .send({ items: itemsFor(locations, locations.length) })
        .expect(403)
    ).body.detail as string;

  it("names the company or location of the key, and each location outside it", async () => {
    expect(await refusal(agencyKey, ["loc-0"])).toBe(
      `The API key "Bright Smiles" may act only on company agency-1's locations, not on location loc-0.`,
    );
    expect(await refusal(locationKey, ["loc-b", "loc-0"])).toBe(
      `The API key "Downtown" may act only on location loc-a, not on locations loc-b, loc-0.`,
    );
    const window = { calendarId: "cal-1", startTime: "2030-05-01T00:00:00Z", endTime: "2030-05-02T00:00:00Z" };
    const single = (key: string, locationId: string) =>
      apiAs(h, key).get(`/api/locations/${locationId}/block-slots`).query(window).expect(403);
    expect((await single(locationKey, "loc-b")).body.detail).toBe(
      `The API key "Downtown" may act only on location loc-a, not on location loc-b.`,
    );
    expect((await single(agencyKey, "loc-0")).body.detail).toBe(
      `The API key "Bright Smiles" may act only on company agency-1's locations, not on location loc-0.`,
    );
  });

  it("names ten locations outside the scope and counts the rest", async () => {
    const many = Array.from({ length: 12 }, (_, i) => `elsewhere-${i + 1}`);
    expect(await refusal(agencyKey, many)).toBe(
      `The API key "Bright Smiles" may act only on company agency-1's locations, not on locations ` +
        `${many.slice(0, 10).join(", ")} and 2 more.`,
    );
    expect(await refusal(agencyKey, many.slice(0, 10))).toMatch(/elsewhere-10\.$/);
  });
});
