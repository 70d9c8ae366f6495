import { createLogger } from "../src/logger";
import { createServices, type Services } from "../src/services";
import { installCompany, installLocation } from "./support/api";
import { LogCapture, startHarness, type Harness } from "./support/harness";
import { AGENCY, SOLO } from "./support/sandbox-fixtures";

/** Polls `read` until it returns `want` or the time is up; returns the last value read. */
async function eventually<T>(read: () => Promise<T>, want: T, timeoutMs = 3_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await read();
  while (value !== want && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

/**
 * Each process keeps the tokens, keys and scopes it read. While PostgreSQL's change notifications arrive it keeps
 * them for minutes, so a change made by another process must reach it through them, at once.
 */
describe("caches across processes", () => {
  let h: Harness;
  let other: Services;
  beforeEach(async () => {
    h = await startHarness({ sandbox: { companies: [AGENCY, SOLO] } });
    await installLocation(h, "loc-solo");
    await installCompany(h, "agency-1");
    // A second process on the same database: its own services, cache and listener.
    other = createServices(h.config, h.db, createLogger("warn", new LogCapture()), h.databaseUrl);
    await h.services.changes.start();
    await other.changes.start();
  });
  afterEach(async () => {
    await other.close();
    await h.close();
  });

  it("drops a token another process renewed, and uses the new one", async () => {
    expect(h.services.changes.listening).toBe(true);
    const before = await h.services.tokenService.accessToken("location", "loc-solo");
    const renewed = await other.tokenService.renew("location", "loc-solo", { rejected: before });
    expect(renewed).not.toBe(before);
    const read = () => h.services.tokenService.accessToken("location", "loc-solo");
    expect(await eventually(read, renewed)).toBe(renewed);
  });

  it("forgets everything when its connection is cut, and listens again", async () => {
    const before = await h.services.tokenService.accessToken("location", "loc-solo");
    // PostgreSQL restarted, a proxy dropped the connection …: notifications in between are lost.
    await h.db.$executeRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE query = 'LISTEN token_changes' AND pid <> pg_backend_pid()`;
    const renewed = await other.tokenService.renew("location", "loc-solo", { rejected: before });
    const read = () => h.services.tokenService.accessToken("location", "loc-solo");
    expect(await eventually(read, renewed)).toBe(renewed);
    expect(await eventually(() => Promise.resolve(h.services.changes.listening), true)).toBe(true);
  });

  it("refuses a key revoked by another process at once", async () => {
    const { id, key } = await h.services.apiKeys.create("integration", { scope: "all" });
    expect(await h.services.apiKeys.authenticate(key)).toMatchObject({ id });
    expect(await other.apiKeys.revoke(id)).toBe(true);
    const read = async () => (await h.services.apiKeys.authenticate(key))?.id;
    expect(await eventually(read, undefined)).toBeUndefined();
  });

  it("follows a location another process moved out of a company key's reach", async () => {
    const { key } = await h.services.apiKeys.create("agency", { scope: "company", companyId: "agency-1" });
    const principal = (await h.services.apiKeys.authenticate(key))!;
    await h.services.access.assertLocation(principal, "loc-a");
    await h.db.$executeRaw`UPDATE locations SET company_id = NULL WHERE id = 'loc-a'`;
    const reach = () =>
      h.services.access.assertLocation(principal, "loc-a").then(
        () => "allowed",
        () => "refused",
      );
    expect(await eventually(reach, "refused")).toBe("refused");
  });

  it("forgets keys and scopes when its connection is cut: changes it could not hear still take effect", async () => {
    const { id, key } = await h.services.apiKeys.create("integration", { scope: "all" });
    const { key: agencyKey } = await h.services.apiKeys.create("agency", { scope: "company", companyId: "agency-1" });
    const agency = (await h.services.apiKeys.authenticate(agencyKey))!;
    expect(await h.services.apiKeys.authenticate(key)).toMatchObject({ id });
    await h.services.access.assertLocation(agency, "loc-a");
    // Changes whose notifications never come (as when they are made while the connection is down).
    await h.db.$transaction([
      h.db.$executeRaw`SET LOCAL session_replication_role = replica`,
      h.db.$executeRaw`UPDATE api_keys SET revoked_at = now() WHERE id = ${id}::uuid`,
      h.db.$executeRaw`UPDATE locations SET company_id = NULL WHERE id = 'loc-a'`,
    ]);
    const reach = () =>
      h.services.access.assertLocation(agency, "loc-a").then(
        () => "allowed",
        () => "refused",
      );
    // Unheard: both are still as this process last read them.
    expect(await h.services.apiKeys.authenticate(key)).toMatchObject({ id });
    expect(await reach()).toBe("allowed");
    await h.db.$executeRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`;
    const read = async () => (await h.services.apiKeys.authenticate(key))?.id;
    expect(await eventually(read, undefined)).toBeUndefined();
    expect(await eventually(reach, "refused")).toBe("refused");
  });
});
