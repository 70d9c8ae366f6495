import request from "supertest";
import { daysAgo } from "../src/db/purge";
import { Housekeeping, type PurgeTask } from "../src/housekeeping/housekeeping";
import { purgeTasks } from "../src/housekeeping/tasks";
import { apiAs } from "./support/api";
import { itemsFor } from "./support/bulk";
import { startHarness, type Harness } from "./support/harness";
import { deliver, event, webhookSigners } from "./support/webhooks";

const signers = webhookSigners();

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ env: signers.env });
});
afterEach(() => h.close());

const run = async () => {
  const result = await h.services.housekeeping.runOnce();
  if (!result) throw new Error("housekeeping did not get its lock");
  return result;
};

describe("housekeeping keeps every table from growing without end", () => {
  it("oauth_states: each GET /oauth/install adds one; expired ones go", async () => {
    for (let i = 0; i < 3; i++) await request(h.app).get("/oauth/install").expect(302);
    const [expired] = await h.db.oAuthState.findMany({ take: 1 });
    await h.db.oAuthState.update({ where: { state: expired!.state }, data: { expiresAt: new Date(Date.now() - 1) } });

    expect((await run()).purged.oauth_states).toBe(1);
    expect(await h.db.oAuthState.count()).toBe(2);
    expect(await h.db.oAuthState.findUnique({ where: { state: expired!.state } })).toBeNull();
  });

  it("webhook_events: worked deliveries go after WEBHOOK_RETENTION_DAYS; one still waiting for a retry stays", async () => {
    const ids: Record<string, string> = {};
    for (const name of ["fresh", "old", "oldWaiting", "abandoned"]) {
      const delivery = event({ type: "AppointmentCreate", locationId: "loc-a", appointment: { id: `appt-${name}` } });
      await deliver(h, signers, delivery).expect(200);
      ids[name] = delivery.webhookId;
    }
    const age = async (name: string, days: number, status: "processed" | "received") =>
      h.db.webhookEvent.update({ where: { id: ids[name] }, data: { receivedAt: daysAgo(days), status } });
    await age("fresh", 29, "processed");
    await age("old", 31, "processed");
    await age("oldWaiting", 31, "received"); // its queue entry may still work it
    await age("abandoned", 45, "received"); // past the queue's own retention too: nothing will

    expect((await run()).purged.webhook_events).toBe(2);
    const left = await h.db.webhookEvent.findMany({ select: { id: true } });
    expect(left.map((e) => e.id).sort()).toEqual([ids.fresh, ids.oldWaiting].sort());
  });

  it("appointment_states and mirrored_blocks: gone once the appointment ended long ago, or the block was deleted", async () => {
    const state = (id: string, endsAt: Date | null, leaseUntil: Date | null = null) =>
      h.db.$executeRaw`INSERT INTO appointment_states (id, location_id, ends_at, lease_until, updated_at)
                       VALUES (${id}, 'loc-a', ${endsAt}, ${leaseUntil}, ${daysAgo(40)})`;
    const block = (appointmentId: string, status: "active" | "deleted", updatedDaysAgo = 40) =>
      h.db.$executeRaw`INSERT INTO mirrored_blocks (appointment_id, rule_id, target_index, location_id, calendar_id,
                         title, start_time, end_time, block_slot_id, status, updated_at)
                       VALUES (${appointmentId}, gen_random_uuid(), 0, 'loc-b', 'cal-2', 'Busy',
                         '2030-01-01T09:00:00Z', '2030-01-01T10:00:00Z', ${`slot-${appointmentId}-${status}`},
                         ${status}::"MirrorStatus", ${daysAgo(updatedDaysAgo)})`;
    await state("ended", daysAgo(35));
    await block("ended", "active");
    await state("upcoming", new Date(Date.now() + 90 * 86_400_000));
    await block("upcoming", "active");
    await block("upcoming", "deleted"); // e.g. its rule stopped watching it: nothing left to follow
    await state("recently-deleted", new Date(Date.now() + 90 * 86_400_000));
    await block("recently-deleted", "deleted", 2);
    await state("being-worked", daysAgo(35), new Date(Date.now() + 60_000));
    // Rows from before the end time was kept: one still has a standing block, one has none.
    await state("legacy-with-block", null);
    await block("legacy-with-block", "active");
    await state("legacy-unwatched", null);

    const { purged } = await run();
    expect(purged).toMatchObject({ appointment_states: 2, mirrored_blocks: 1 });
    const states = await h.db.appointmentState.findMany({ select: { id: true } });
    expect(states.map((s) => s.id).sort()).toEqual(
      ["being-worked", "legacy-with-block", "recently-deleted", "upcoming"].sort(),
    );
    const blocks = await h.db.mirroredBlock.findMany({ select: { appointmentId: true, status: true } });
    expect(blocks.map((b) => `${b.appointmentId}:${b.status}`).sort()).toEqual(
      ["legacy-with-block:active", "recently-deleted:deleted", "upcoming:active"].sort(),
    );
  });

  it("bulk_jobs and bulk_items: finished jobs go after JOB_RETENTION_DAYS, in bounded batches; pending ones stay", async () => {
    const submit = async (count: number) =>
      (
        await apiAs(h)
          .post("/api/block-slots/bulk")
          .send({ items: itemsFor(["loc-a"], count) })
          .expect(202)
      ).body.id as string;
    const job = async (count: number, days: number, finished: boolean) => {
      const id = await submit(count);
      await h.db.bulkJob.update({ where: { id }, data: { createdAt: daysAgo(days) } });
      if (finished) await h.db.bulkItem.updateMany({ where: { jobId: id }, data: { status: "succeeded" } });
      return id;
    };
    const fresh = await job(3, 29, true);
    const old = await job(7, 31, true);
    const oldPending = await job(2, 31, false);
    const abandoned = await job(2, 45, false);

    // Two rows per statement: the seven items of one job take several turns.
    const statements: number[] = [];
    const tasks = purgeTasks(h.services).map((t): PurgeTask => ({
      name: t.name,
      purge: (n) => t.purge(n).then((count) => (statements.push(count), count)),
    }));
    const small = new Housekeeping(h.databaseUrl, tasks, h.services.log, { batchSize: 2 });
    const result = await small.runOnce();

    expect(result).toMatchObject({ complete: true, purged: { bulk_jobs: 7 + 2 + 2 } });
    expect(Math.max(...statements)).toBeLessThanOrEqual(2 + 2);
    const jobs = await h.db.bulkJob.findMany({ select: { id: true } });
    expect(jobs.map((j) => j.id).sort()).toEqual([fresh, oldPending].sort());
    expect(await h.db.bulkItem.count({ where: { jobId: { in: [old, abandoned] } } })).toBe(0);
    expect(await h.db.bulkItem.count({ where: { jobId: { in: [fresh, oldPending] } } })).toBe(5);
  });

  it("audit_events: records go after AUDIT_RETENTION_DAYS (365 by default); younger ones stay", async () => {
    // Each key made is one audit record about that key.
    const made = async (name: string) => ({ body: await h.services.apiKeys.create(name, { scope: "all" }) });
    const old = await made("old");
    const young = await made("young");
    await h.db.auditEvent.updateMany({ where: { subjectId: old.body.id }, data: { at: daysAgo(366) } });
    await h.db.auditEvent.updateMany({ where: { subjectId: young.body.id }, data: { at: daysAgo(364) } });

    expect((await run()).purged.audit_events).toBe(1);
    const left = await h.db.auditEvent.findMany({ select: { subjectId: true } });
    expect(left).toEqual([{ subjectId: young.body.id }]);
  });

  it("metric_buckets: the dashboard's buckets go after METRICS_RETENTION_DAYS (8 by default)", async () => {
    // Counted as the app counts them: through its recorder, each at its own time.
    const { buckets } = h.services;
    buckets.count("blocks_created", "api", 3, daysAgo(9).getTime());
    buckets.count("blocks_created", "api", 2, daysAgo(7).getTime());
    buckets.count("blocks_created", "api", 1);
    await buckets.flush();

    expect((await run()).purged.metric_buckets).toBe(1);
    const left = await h.db.metricBucket.findMany({ select: { total: true }, orderBy: { bucketStart: "asc" } });
    expect(left.map((b) => b.total)).toEqual([2, 1]);
  });

  it("idempotency keys go after their 25 hours, and the run says what it purged", async () => {
    await h.db.idempotencyRecord.createMany({
      data: [
        { owner: "k", key: "old", requestHash: "x", status: 201, createdAt: new Date(Date.now() - 26 * 3600_000) },
        { owner: "k", key: "new", requestHash: "x", status: 201 },
      ],
    });
    expect((await run()).purged.idempotency_keys).toBe(1);
    expect(await h.db.idempotencyRecord.findMany({ select: { key: true } })).toEqual([{ key: "new" }]);
    expect(h.logs.text).toContain('"idempotency_keys":1');
    expect(h.logs.text).toContain("housekeeping purged old rows");
  });
});

describe("sign-in records and install pages go once they are of no use", () => {
  it("ended throttle windows, expired console sessions, SSO payloads over a week old, week-old finished installs", async () => {
    const hour = 3600_000;
    await h.db.authFailure.createMany({
      data: [
        { address: "198.51.100.1", failures: 3, windowEndsAt: new Date(Date.now() - 1000) },
        { address: "198.51.100.2", failures: 3, windowEndsAt: new Date(Date.now() + 60_000) },
      ],
    });
    await h.db.consoleSession.createMany({
      data: [
        { principalId: "bootstrap:old", expiresAt: new Date(Date.now() - 1000) },
        { principalId: "bootstrap:new", expiresAt: new Date(Date.now() + hour) },
      ],
    });
    await h.db.usedSsoPayload.createMany({
      data: [
        { digest: "old", usedAt: new Date(Date.now() - 8 * 24 * hour) },
        { digest: "new", usedAt: new Date(Date.now() - 24 * hour) },
      ],
    });
    await h.db.location.createMany({
      data: [
        { id: "hk-done", companyId: "hk", source: "agency", status: "active" },
        { id: "hk-busy", companyId: "hk", source: "agency", status: "connecting" },
      ],
    });
    const old = new Date(Date.now() - 8 * 24 * hour);
    await h.db.install.createMany({
      data: [
        { id: "old-done", kind: "company", companyId: "hk", startedAt: old },
        { id: "old-busy", kind: "company", companyId: "hk", startedAt: old },
        { id: "fresh", kind: "company", companyId: "hk" },
      ],
    });
    await h.db.installLocation.createMany({
      data: [
        { installId: "old-done", locationId: "hk-done" },
        { installId: "old-busy", locationId: "hk-busy" },
      ],
    });

    const { purged } = await run();
    expect(purged).toMatchObject({ auth_failures: 1, console_sessions: 1, used_sso_payloads: 1, installs: 1 });
    expect(await h.db.authFailure.findMany({ select: { address: true } })).toEqual([{ address: "198.51.100.2" }]);
    expect(await h.db.consoleSession.findMany({ select: { principalId: true } })).toEqual([
      { principalId: "bootstrap:new" },
    ]);
    expect(await h.db.usedSsoPayload.findMany({ select: { digest: true } })).toEqual([{ digest: "new" }]);
    const installs = await h.db.install.findMany({ select: { id: true }, orderBy: { id: "asc" } });
    expect(installs).toEqual([{ id: "fresh" }, { id: "old-busy" }]);
  });
});

describe("housekeeping runs in one process at a time", () => {
  it("a second run while one is under way (another process, another connection) does nothing", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const slow: PurgeTask = {
      name: "slow",
      purge: async () => {
        entered();
        await held;
        return 0;
      },
    };
    const calls: string[] = [];
    const counted: PurgeTask = { name: "counted", purge: () => (calls.push("second"), Promise.resolve(0)) };
    const first = new Housekeeping(h.databaseUrl, [slow], h.services.log);
    const second = new Housekeeping(h.databaseUrl, [counted], h.services.log);

    const firstRun = first.runOnce();
    await inside;
    expect(await second.runOnce()).toBeUndefined();
    expect(calls).toEqual([]);

    release();
    expect(await firstRun).toMatchObject({ complete: true });
    expect(await second.runOnce()).toMatchObject({ complete: true, purged: { counted: 0 } });
    expect(calls).toEqual(["second"]);
  });
});
