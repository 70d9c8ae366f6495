import request from "supertest";
import { apiAs } from "./support/api";
import { startHarness, type Harness } from "./support/harness";

/**
 * At LOG_LEVEL=warn (the demo's terminal) a caller's mistakes leave no trace: they are answered,
 * and explained, to the caller. What the operator must see still shows.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { LOG_LEVEL: "warn" } });
});
afterAll(() => h.close());

it("logs nothing at warn level for 4xx answers: no key, a wrong key, a bad body, an unknown route", async () => {
  await request(h.app).get("/api/installations").expect(401);
  await apiAs(h, "not-a-key").get("/api/installations").expect(401);
  await apiAs(h).post("/api/block-slots/bulk").send({ items: "no" }).expect(400);
  await apiAs(h).get("/api/no-such-route").expect(404);
  await request(h.app).get("/oauth/callback").expect(400);
  expect(h.logs.text).toBe("");
});

it("still logs a 5xx, as an error", async () => {
  await h.db.$executeRawUnsafe("ALTER TABLE locations RENAME TO locations_gone");
  try {
    await apiAs(h).get("/api/installations").expect(500);
  } finally {
    await h.db.$executeRawUnsafe("ALTER TABLE locations_gone RENAME TO locations");
  }
  const records = h.logs.lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { stack?: string } });
  expect(records.find((r) => r.msg === "request errored")?.level).toBe(50);
  expect(records.find((r) => r.err?.stack)).toBeDefined();
});
