import request from "supertest";
import { TokenRefresher } from "../src/tokens/refresher";
import { apiAs, installCompany } from "./support/api";
import { bigAgency } from "./support/bulk";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { spawnTs, waitForLine } from "./support/processes";

let h: Harness;
afterEach(async () => {
  const invalid = h.sandbox.state.invalidRequests();
  await h.close();
  expect(invalid).toEqual([]);
});

const MINUTE = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms);

/** Due for the refresher, and close enough to expiry that renewing means asking HighLevel. */
async function due(ids: string[], dueSince: number) {
  await h.db.location.updateMany({
    where: { id: { in: ids } },
    data: { nextRefreshAt: ago(dueSince), tokenExpiresAt: new Date(Date.now() + 30 * MINUTE) },
  });
}

/** HighLevel answers "Location is not active" to this location's refreshes, until told otherwise. */
const sicken = (id: string) => h.sandbox.state.setLocationInactive(id, true);
const row = (id: string) => h.db.location.findUniqueOrThrow({ where: { id } });

async function agencyOf(count: number, options: { latencyMs?: number } = {}) {
  h = await startHarness({ sandbox: { companies: [bigAgency(count)], ...options } });
  await installCompany(h, "agency-big");
}

const refresher = (options: ConstructorParameters<typeof TokenRefresher>[3] = {}) =>
  new TokenRefresher(h.db, h.services.tokenService, h.services.log, options);

describe("a refresher that is fair to healthy installations", () => {
  it("a failing row does not block a healthy one: one try, then it waits its turn", async () => {
    await agencyOf(2);
    sicken("loc-0");
    await due(["loc-0"], 10 * MINUTE); // first in line
    await due(["loc-1"], 1 * MINUTE);
    const sweeper = refresher({ batchSize: 1, retryBaseMs: 5 * MINUTE });

    expect(await sweeper.sweep()).toMatchObject({ checked: 1, failed: 1 });
    expect(h.sandbox.state.refreshCount("loc-1")).toBe(1);
    expect(h.sandbox.state.refreshCount("loc-0")).toBe(1);
    const sick = await row("loc-0");
    expect(sick).toMatchObject({ refreshFailures: 1, refreshGivenUpAt: null, status: "inactive" });
    expect(sick.refreshFailingSince).not.toBeNull();
    expect(sick.nextRefreshAt!.getTime()).toBeGreaterThan(Date.now() + 4 * MINUTE);
    const well = await row("loc-1");
    expect(well.tokenExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 23 * 60 * MINUTE);
    expect(well.nextRefreshAt!.getTime()).toBe(well.tokenExpiresAt!.getTime() - 60 * MINUTE);

    // The next sweep leaves the failing row alone until its wait is over.
    expect(await sweeper.sweep()).toMatchObject({ checked: 0, failed: 0 });
    expect(h.sandbox.state.refreshCount("loc-0")).toBe(1);
  });

  it("each failure doubles the wait, up to the cap; a renewal clears the failures", async () => {
    await agencyOf(1);
    sicken("loc-0");
    const sweeper = refresher({ retryBaseMs: MINUTE, retryCapMs: 30 * MINUTE });
    const waitAfter = async (failures: number) => {
      await h.db.location.update({ where: { id: "loc-0" }, data: { refreshFailures: failures } });
      await due(["loc-0"], MINUTE);
      await sweeper.sweep();
      return ((await row("loc-0")).nextRefreshAt!.getTime() - Date.now()) / MINUTE;
    };
    const third = await waitAfter(2);
    expect(third).toBeGreaterThan(4 * 0.9 - 0.5);
    expect(third).toBeLessThan(4 * 1.1 + 0.1);
    const capped = await waitAfter(12);
    expect(capped).toBeGreaterThan(30 * 0.9 - 0.5);
    expect(capped).toBeLessThan(30 * 1.1 + 0.1);
    expect((await row("loc-0")).refreshFailures).toBe(13);

    h.sandbox.state.setLocationInactive("loc-0", false);
    await due(["loc-0"], MINUTE);
    expect(await sweeper.sweep()).toMatchObject({ checked: 1, failed: 0 });
    expect(await row("loc-0")).toMatchObject({ refreshFailures: 0, refreshFailingSince: null, status: "active" });
  });

  it("after REFRESH_GIVE_UP_DAYS of failures: marked, shown in the API and the console, no longer retried", async () => {
    await agencyOf(2);
    sicken("loc-0");
    await due(["loc-0"], MINUTE);
    await h.db.location.update({
      where: { id: "loc-0" },
      data: { refreshFailures: 20, refreshFailingSince: ago(8 * 24 * 60 * MINUTE) },
    });

    expect(await h.services.refresher.sweep()).toMatchObject({ gaveUp: 1 });
    expect(await row("loc-0")).toMatchObject({ nextRefreshAt: null, refreshGivenUpAt: expect.any(Date) });

    const { body } = await apiAs(h).get("/api/installations").expect(200);
    const [sick, well] = body.locations as { id: string; needsAttention: boolean; refreshFailingSince?: string }[];
    expect(sick).toMatchObject({ id: "loc-0", needsAttention: true, refreshFailingSince: expect.any(String) });
    expect(well).toMatchObject({ id: "loc-1", needsAttention: false });
    expect(well!.refreshFailingSince).toBeUndefined();

    const login = await request(h.app).post("/console/login").type("form").send({ key: TEST_API_KEY }).expect(303);
    const cookie = (login.headers["set-cookie"] as unknown as string[])[0]!.split(";")[0]!;
    const page = await request(h.app).get("/console").set("Cookie", cookie).expect(200);
    expect(page.text).toContain("1 location needs attention");
    expect(page.text).toContain("Needs attention");
    const only = await request(h.app).get("/console?attention=1").set("Cookie", cookie).expect(200);
    expect(only.text).toContain("loc-0");
    expect(only.text).not.toContain("<code>loc-1</code>");

    // Left alone by the refresher from now on…
    await h.services.refresher.sweep();
    expect(h.sandbox.state.refreshCount("loc-0")).toBe(1);
    // …until a use renews it: then it is healthy again.
    h.sandbox.state.setLocationInactive("loc-0", false);
    // (expired, and past the minute an inactive location is left alone for)
    await h.db.location.update({
      where: { id: "loc-0" },
      data: { tokenExpiresAt: ago(MINUTE), updatedAt: ago(2 * MINUTE) },
    });
    await apiAs(h)
      .get(
        "/api/locations/loc-0/block-slots?calendarId=cal-1&startTime=2030-01-01T00:00:00Z&endTime=2030-01-02T00:00:00Z",
      )
      .expect(200);
    expect(await row("loc-0")).toMatchObject({ refreshGivenUpAt: null, refreshFailures: 0, status: "active" });
  });
});

describe("the refresher in several processes", () => {
  it("a sweep runs in two processes at once: they share the due rows, each token renewed exactly once", async () => {
    await agencyOf(40, { latencyMs: 20 });
    const ids = Array.from({ length: 40 }, (_, i) => `loc-${i}`);
    await due(ids, MINUTE);
    const before = new Map(ids.map((id) => [id, h.sandbox.state.refreshCount(id)]));

    const children = [0, 1].map(() => spawnTs("test/support/refresher-worker.ts", [], h.childEnv));
    try {
      await Promise.all(children.map((c) => waitForLine(c, (l) => l === "ready")));
      const results = children.map((c) => waitForLine(c, (l) => l.startsWith("{")));
      for (const c of children) c.stdin.write("go\n");
      const sweeps = (await Promise.all(results)).map((l) => JSON.parse(l) as { checked: number; failed: number });

      expect(sweeps.map((s) => s.failed)).toEqual([0, 0]);
      expect(sweeps[0]!.checked + sweeps[1]!.checked).toBe(40);
      // Both took part: rows are claimed a batch at a time, skipping what the other holds.
      expect(sweeps[0]!.checked).toBeGreaterThan(0);
      expect(sweeps[1]!.checked).toBeGreaterThan(0);
      expect(ids.filter((id) => h.sandbox.state.refreshCount(id) - before.get(id)! !== 1)).toEqual([]);
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    }
  }, 90_000);
});
