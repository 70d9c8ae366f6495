import { apiAs, installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { SOLO, SOLO_SLOT, SOLO_SLOTS } from "./support/sandbox-fixtures";

// A database shut down on purpose (a terminal's Ctrl-C stops the demo's embedded PostgreSQL with
// the app, often before the app hears the signal) closes every connection with 57P01, "terminating
// connection due to administrator command": what the app's connections say then is noted, not a
// warning on the operator's terminal. pg_terminate_backend closes them with that same error.
let h: Harness;
afterEach(async () => {
  await h.close();
});

const records = () =>
  h.logs.lines.map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string; err?: unknown });

it("connections closed by the database's own shutdown are noted at info, with the reason, and none warns", async () => {
  h = await startHarness({ sandbox: { companies: [SOLO] }, jobs: true });
  await h.services.changes.start(); // as the runtime does
  await installLocation(h, "loc-solo");
  // The rate budget's pool, the change listener and the job queue all hold connections now.
  await apiAs(h).post(SOLO_SLOTS).send(SOLO_SLOT).expect(201);
  const before = h.logs.lines.length;

  await h.db.$executeRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;
  await new Promise((r) => setTimeout(r, 1000));

  const after = records().slice(before);
  const noted = after.filter((r) => r.reason && /administrator command/.test(r.reason));
  expect(new Set(noted.map((r) => r.msg))).toEqual(
    new Set([
      "change notifications lost; reconnecting",
      "rate-limit database connection lost",
      "job queue: database stopping",
    ]),
  );
  expect(noted.every((r) => r.level === 30)).toBe(true);
  // The job queue hears it from each of its pooled connections: one line says it.
  expect(noted.filter((r) => r.msg === "job queue: database stopping")).toHaveLength(1);
  expect(after.filter((r) => r.level >= 40)).toEqual([]);
});
