import { apiAs, installCompany } from "./support/api";
import { bigAgency, itemsFor, waitForJob } from "./support/bulk";
import { startHarness, type Harness } from "./support/harness";
import { spawnTs, waitForLine } from "./support/processes";

const LOCATIONS = Array.from({ length: 20 }, (_, i) => `loc-${i}`);

let h: Harness;
beforeAll(async () => {
  // HighLevel answers slowly (after doing the work), so the kill can land while creates are in flight.
  h = await startHarness({
    sandbox: { companies: [bigAgency(20)], latencyMs: 300 },
    // A killed worker's jobs are retried after this: short, so the test does not wait minutes.
    env: { JOB_TIMEOUT_SECONDS: "3" },
  });
  await installCompany(h, "agency-big");
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

it("a server killed mid-job: after a restart the job finishes, every block created exactly once", async () => {
  const items = itemsFor(LOCATIONS, 300);
  const { body } = await apiAs(h).post("/api/block-slots/bulk").send({ items }).expect(202);

  const first = await startServer(20);
  try {
    await waitForJob(h, body.id, (job) => job.counts.succeeded >= 20);
    // Kill while creates are out: claimed, sent, not yet answered.
    for (let i = 0; i < 200; i++) {
      const inFlight = await h.db.bulkItem.count({ where: { jobId: body.id, status: "pending", sent: true } });
      if (inFlight > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    first.kill("SIGKILL");
  }
  await new Promise((resolve) => first.once("exit", resolve));
  const midway = await waitForJob(h, body.id, () => true);
  expect(midway.counts.pending).toBeGreaterThan(0);
  const cutOff = await h.db.bulkItem.count({ where: { jobId: body.id, status: "pending", sent: true } });
  expect(cutOff).toBeGreaterThan(0);

  const second = await startServer(50);
  try {
    const job = await waitForJob(h, body.id, (j) => j.counts.pending === 0, 90_000);
    expect(job).toMatchObject({ status: "done", counts: { succeeded: 300, failed: 0 } });
  } finally {
    second.kill("SIGKILL");
  }

  const made = LOCATIONS.flatMap((l) => h.sandbox.state.blockSlots(l));
  const perTitle = new Map<string, number>();
  for (const slot of made) perTitle.set(slot.title, (perTitle.get(slot.title) ?? 0) + 1);
  expect([...perTitle.values()].filter((n) => n > 1)).toEqual([]);
  expect(perTitle.size).toBe(300);
  const stored = await h.db.bulkItem.findMany({ where: { jobId: body.id }, select: { blockSlotId: true } });
  expect(new Set(stored.map((s) => s.blockSlotId)).size).toBe(300);
}, 120_000);
