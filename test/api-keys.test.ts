import request from "supertest";
import { apiAs, installCompany, installLocation } from "./support/api";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { Writable } from "node:stream";
import { runApiKeyCli } from "../src/cli/api-key";
import { runCli } from "./support/processes";
import { until } from "./support/server-process";
import { setTimeout as sleep } from "node:timers/promises";
import crypto from "node:crypto";
import os from "node:os";
import { createLogger } from "../src/logger";
import { createServices } from "../src/services";
import { LogCapture } from "./support/harness";
import { AGENCY, SOLO } from "./support/sandbox-fixtures";

const SLOT = {
  calendarId: "cal-1",
  startTime: "2030-05-01T12:00:00+02:00",
  endTime: "2030-05-01T13:00:00+02:00",
};
const WINDOW = { calendarId: "cal-1", startTime: "2030-05-01T00:00:00Z", endTime: "2030-05-02T00:00:00Z" };
const slots = (locationId: string) => `/api/locations/${locationId}/block-slots`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [AGENCY, SOLO] } });
  await installCompany(h, "agency-1"); // loc-a and loc-b connected through the agency
  await installLocation(h, "loc-solo");
});
afterAll(() => h.close());
beforeEach(() => h.sandbox.state.resetRequests());

/** Until the key's use is recorded (beside the request, not in its way). */
const usedRecorded = (id: string) =>
  until(async () => (await h.db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt !== null);

/**
 * `npm run api-key -- …` against the test database, run in this process: a spawned TypeScript
 * process per call took seconds each on a loaded machine. One test below spawns the real command.
 */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new Collector();
  const err = new Collector();
  const saved = process.env.DATABASE_URL;
  process.env.DATABASE_URL = h.childEnv.DATABASE_URL;
  try {
    const code = await runApiKeyCli(args, out, err);
    return { code, stdout: out.text, stderr: err.text };
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
}

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}
async function createKey(...scope: string[]): Promise<{ key: string; id: string }> {
  const res = await cli("create", "--name", `key for ${scope.join(" ")}`, ...scope);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return { key: /^\s+(hlbs_\S+)$/m.exec(res.stdout)![1]!, id: /\(id ([0-9a-f-]{36})\)/.exec(res.stdout)![1]! };
}

describe("API keys from the CLI", () => {
  it("prints the key once and stores only its digest", async () => {
    const { key, id } = await createKey("--all");
    const row = await h.db.apiKey.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(row)).not.toContain(key);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    const listed = await cli("list");
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(key);
  });

  it("lists keys as a table with when each was created and last used", async () => {
    const { key, id } = await createKey("--location", "loc-solo");
    const before = await cli("list");
    expect(before.stdout.split("\n")[0]).toMatch(/^ID\s+PREFIX\s+NAME\s+SCOPE\s+CREATED\s+LAST USED\s+STATE$/);
    const today = new Date().toISOString().slice(0, 10);
    const row = (out: string) => out.split("\n").find((l) => l.startsWith(id)) ?? "";
    expect(row(before.stdout)).toMatch(
      new RegExp(`location loc-solo\\s+${today} \\d\\d:\\d\\d UTC\\s+never\\s+active$`),
    );

    await apiAs(h, key).get(slots("loc-solo")).query(WINDOW).expect(200);
    await usedRecorded(id);
    const after = await cli("list");
    expect(row(after.stdout)).toMatch(new RegExp(`UTC\\s+${today} \\d\\d:\\d\\d UTC\\s+active$`));
  });

  it("creates a key for a location that is not installed, with a warning", async () => {
    const res = await cli("create", "--name", "early", "--location", "loc-not-yet");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^\s+hlbs_\S+$/m);
    expect(res.stdout).toContain("Warning: location loc-not-yet is not installed");
    const installed = await cli("create", "--name", "fine", "--location", "loc-solo");
    expect(installed.stdout).not.toContain("Warning");
  });

  it("a company key acts on that company's locations and gets 403 elsewhere, without touching HighLevel", async () => {
    const { key } = await createKey("--company", "agency-1");
    const api = apiAs(h, key);
    await api.post(slots("loc-a")).send(SLOT).expect(201);
    await api.get(slots("loc-b")).query(WINDOW).expect(200);
    h.sandbox.state.resetRequests();

    const res = await api.post(slots("loc-solo")).send(SLOT).expect(403);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body).toMatchObject({ code: "forbidden", status: 403 });
    expect(res.body.detail).toContain("agency-1");
    await api.get(slots("never-installed")).query(WINDOW).expect(403);
    expect(h.sandbox.state.requests).toEqual([]);

    const installs = await api.get("/api/installations").expect(200);
    expect(installs.body.companies.map((c: { id: string }) => c.id)).toEqual(["agency-1"]);
    expect(installs.body.locations.map((l: { id: string }) => l.id).sort()).toEqual(["loc-a", "loc-b", "loc-c"]);
  });

  it("a location key acts on its location only", async () => {
    const { key } = await createKey("--location", "loc-solo");
    const api = apiAs(h, key);
    await api.post(slots("loc-solo")).send(SLOT).expect(201);
    h.sandbox.state.resetRequests();
    await api.delete(`${slots("loc-a")}/some-event`).expect(403);
    await api
      .put(`${slots("loc-b")}/some-event`)
      .send(SLOT)
      .expect(403);
    expect(h.sandbox.state.requests).toEqual([]);

    const installs = await api.get("/api/installations").expect(200);
    expect(installs.body.companies).toEqual([]);
    expect(installs.body.locations.map((l: { id: string }) => l.id)).toEqual(["loc-solo"]);
  });

  it("a revoked key answers 401 from then on", async () => {
    const { key, id } = await createKey("--all");
    await apiAs(h, key).get("/api/installations").expect(200);
    const revoked = await cli("revoke", id);
    expect(revoked.code).toBe(0);
    const res = await apiAs(h, key).get("/api/installations").expect(401);
    expect(res.body.code).toBe("unauthorized");
  });

  it("reports failure when revoking a key that is unknown or already revoked", async () => {
    const keys = h.services.apiKeys;
    const { key, id } = await keys.create("to revoke", { scope: "all" });
    expect(await keys.revoke(key)).toBe(true); // by the key itself
    for (const target of [id, key, "00000000-0000-4000-8000-000000000000", "not-a-key-id"]) {
      expect(await keys.revoke(target)).toBe(false);
    }
    const res = await cli("revoke", id);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("No active API key matches");
    await apiAs(h, key).get("/api/installations").expect(401);
  });

  it("keeps only the key's first characters in plain, for telling keys apart", async () => {
    const { key, id } = await createKey("--all");
    const row = await h.db.apiKey.findUniqueOrThrow({ where: { id } });
    expect(row.prefix).toBe(key.slice(0, "hlbs_".length + 6));
    expect((await cli("list")).stdout).toContain(`${row.prefix}…`);
  });

  it("revoking one key, by id or by the key itself, leaves every other key working", async () => {
    const keys = h.services.apiKeys;
    const kept = await keys.create("kept", { scope: "all" });
    const byId = await keys.create("revoked by id", { scope: "all" });
    const byKey = await keys.create("revoked by key", { scope: "all" });
    expect(await keys.revoke(byId.id)).toBe(true);
    expect(await keys.revoke(byKey.key)).toBe(true);
    expect(await keys.revoke("not-a-key-id")).toBe(false);
    await apiAs(h, kept.key).get("/api/installations").expect(200);
    await apiAs(h, byId.key).get("/api/installations").expect(401);
    await apiAs(h, byKey.key).get("/api/installations").expect(401);
  });

  it("records a key's use on that key only", async () => {
    const keys = h.services.apiKeys;
    const used = await keys.create("used", { scope: "all" });
    const idle = await keys.create("idle", { scope: "all" });
    await apiAs(h, used.key).get("/api/installations").expect(200);
    await usedRecorded(used.id);
    expect(await h.db.apiKey.findUniqueOrThrow({ where: { id: idle.id } })).toMatchObject({ lastUsedAt: null });
  });

  it("records a key's use at most every five minutes, also when several processes use it", async () => {
    const { id, key } = await h.services.apiKeys.create("busy", { scope: "all" });
    await apiAs(h, key).get("/api/installations").expect(200);
    await usedRecorded(id);
    const first = (await h.db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt;
    // Another process has not recorded this key's use yet; the row says it was recorded just now.
    const other = createServices(h.config, h.db, createLogger("silent", new LogCapture()), h.databaseUrl);
    try {
      await sleep(5);
      expect(await other.apiKeys.authenticate(key)).toMatchObject({ id });
      await sleep(200);
      expect((await h.db.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).toEqual(first);
    } finally {
      await other.close();
    }
  });

  it("names in the audit trail who made a key at the command line, and whose key it is", async () => {
    const { id } = await createKey("--location", "loc-solo");
    const made = await h.db.auditEvent.findFirstOrThrow({ where: { action: "api_key.created", subjectId: id } });
    expect(made).toMatchObject({ actorKind: "cli", actorName: os.userInfo().username, locationId: "loc-solo" });
    const { id: agencyKey } = await createKey("--company", "agency-1");
    const agency = await h.db.auditEvent.findFirstOrThrow({
      where: { action: "api_key.created", subjectId: agencyKey },
    });
    expect(agency).toMatchObject({ companyId: "agency-1", locationId: null });
  });

  it("knows a key from API_KEYS by a short id that stays the same and does not give the key away", async () => {
    const principal = await h.services.apiKeys.authenticate(TEST_API_KEY);
    const digest = crypto.createHash("sha256").update(TEST_API_KEY).digest("hex");
    expect(principal).toMatchObject({ id: `bootstrap:${digest.slice(0, 16)}`, scope: "all" });
  });

  it("lists keys oldest first, whichever was used last", async () => {
    const keys = h.services.apiKeys;
    const first = await keys.create("first", { scope: "all" });
    const second = await keys.create("second", { scope: "all" });
    await apiAs(h, first.key).get("/api/installations").expect(200);
    await usedRecorded(first.id);
    const ids = (await keys.list()).map((k) => k.id);
    expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id));
  });

  it("refuses a create without a scope or a name, and says how to use it", async () => {
    const noScope = await cli("create", "--name", "x");
    expect(noScope.code).toBe(2);
    expect(noScope.stderr).toContain("--all, --company <id> or --location <id>");
    const noName = await cli("create", "--all");
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("--name is required");
    expect(await h.db.apiKey.count({ where: { name: "x" } })).toBe(0);
  });

  it("works as the shell runs it: a key printed with exit 0, a usage mistake exits 2", async () => {
    const made = await runCli("src/cli/api-key.ts", ["create", "--name", "from the shell", "--all"], h.childEnv);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const key = /^\s+(hlbs_\S+)$/m.exec(made.stdout)![1]!;
    await apiAs(h, key).get(slots("loc-solo")).query(WINDOW).expect(200);
    const wrong = await runCli("src/cli/api-key.ts", ["create", "--name", "x"], h.childEnv);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("Usage:");
  });
});

describe("authentication", () => {
  it("accepts a key from API_KEYS on every location", async () => {
    await apiAs(h).get(slots("loc-a")).query(WINDOW).expect(200);
    await apiAs(h).get(slots("loc-solo")).query(WINDOW).expect(200);
  });

  it("says whether the key is missing or not valid", async () => {
    const missing = await request(h.app).get("/api/installations").expect(401);
    expect(missing.body.detail).toBe("Send an API key as `Authorization: Bearer <key>`.");
    const wrong = await apiAs(h, "hlbs_not-a-real-key").get("/api/installations").expect(401);
    expect(wrong.body.detail).toBe("The API key is not valid or has been revoked.");
  });

  it("reads the Authorization header as RFC 6750 writes it: any case of Bearer, any spaces, nothing else", async () => {
    const as = (header: string) => request(h.app).get("/api/installations").set("Authorization", header);
    for (const ok of [`Bearer ${TEST_API_KEY}`, `bearer ${TEST_API_KEY}`, `Bearer   ${TEST_API_KEY}  `]) {
      await as(ok).expect(200);
    }
    for (const bad of [`xBearer ${TEST_API_KEY}`, `Bearer ${TEST_API_KEY} extra`, `Bearer${TEST_API_KEY}`]) {
      await as(bad).expect(401);
    }
  });

  it.each([
    ["no Authorization header", undefined],
    ["an unknown key", "Bearer hlbs_not-a-real-key"],
    ["a bootstrap-looking unknown key", "Bearer something-else"],
    ["Basic auth", "Basic dXNlcjpwYXNz"],
  ])("answers 401 problem+json for %s, without touching HighLevel", async (_name, header) => {
    const req = request(h.app).post(slots("loc-a")).send(SLOT);
    const res = await (header ? req.set("Authorization", header) : req).expect(401);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body.code).toBe("unauthorized");
    expect(h.sandbox.state.requests).toEqual([]);
  });
});
