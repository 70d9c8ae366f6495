import { buildAgency } from "../sandbox";
import { apiAs, installCompany } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { PLANS, waitForPlan } from "./support/plans";
import { spawnTs, waitForLine } from "./support/processes";

const AGENCY = buildAgency(20, { id: "agency-crash" });
const BLOCKS = 20 * 10;

let h: Harness;
beforeAll(async () => {
  // HighLevel answers slowly (after doing the work), so the kill lands while creates are in flight.
  h = await startHarness({
    sandbox: { companies: [AGENCY], latencyMs: 300 },
    // A killed worker's jobs are retried after this: short, so the test does not wait minutes.
    env: { JOB_TIMEOUT_SECONDS: "3" },
  });
  await installCompany(h, AGENCY.id);
});
afterAll(() => h.close());

/** `npm start` as a child process on the test database: the real server, queue worker included. */
async function startServer(concurrency: number) {
  const child = spawnTs("src/server.ts", [], {
    ...h.childEnv,
    PORT: "0",
    LOG_LEVEL: "info",
    WORKER_CONCURRENCY: String(concurrency),
  });
  await waitForLine(child, (line) => line.includes('"listening"'));
  return child;
}

it("a server killed mid-apply: after a restart every block of the plan exists exactly once", async () => {
  const body = {
    title: "Inventory day",
    targets: [{ companyId: AGENCY.id, calendars: "all" }],
    schedule: { start: "2027-02-01T08:00", end: "2027-02-01T09:00", rrule: "FREQ=DAILY;COUNT=10" },
  };
  const { id } = (await apiAs(h).post(PLANS).send(body).expect(202)).body as { id: string };

  const first = await startServer(20);
  try {
    await waitForPlan(h, id, (plan) => plan.counts.created >= 20);
    // Kill while creates are out: claimed, sent, not yet answered.
    for (let i = 0; i < 200; i++) {
      const inFlight = await h.db.planBlock.count({ where: { planId: id, status: "pending", sent: true } });
      if (inFlight > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    first.kill("SIGKILL");
  }
  await new Promise((resolve) => first.once("exit", resolve));
  const cutOff = await h.db.planBlock.count({ where: { planId: id, status: "pending", sent: true } });
  expect(cutOff).toBeGreaterThan(0);

  const second = await startServer(50);
  try {
    const plan = await waitForPlan(h, id, (p) => p.counts.pending === 0, 90_000);
    expect(plan.blocks!.filter((b) => b.error)).toEqual([]);
    expect(plan).toMatchObject({ status: "applied", counts: { created: BLOCKS, failed: 0 } });
  } finally {
    second.kill("SIGKILL");
  }

  const made = [...h.sandbox.state.slots.values()].filter((s) => s.title === "Inventory day");
  const perBlock = new Map<string, number>();
  for (const slot of made) {
    const key = `${slot.calendarId} ${slot.startTime}`;
    perBlock.set(key, (perBlock.get(key) ?? 0) + 1);
  }
  expect([...perBlock.entries()].filter(([, n]) => n > 1)).toEqual([]);
  expect(perBlock.size).toBe(BLOCKS);
  const stored = await h.db.planBlock.findMany({ where: { planId: id }, select: { blockSlotId: true } });
  expect(new Set(stored.map((s) => s.blockSlotId)).size).toBe(BLOCKS);
  expect(new Set(made.map((s) => s.id))).toEqual(new Set(stored.map((s) => s.blockSlotId)));
}, 240_000);
