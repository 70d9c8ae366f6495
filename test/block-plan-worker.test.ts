/**
 * The plan worker's claim, lease, resume and settling, driven block by block against real
 * PostgreSQL and the sandbox: what a crash or a change leaves behind is written to the block's
 * row, then the worker is run on it (test/block-plan-worker-failures.test.ts: its failures).
 * test/block-plans-crash.test.ts kills a real server as well.
 */
import { startPlanHarness, planWorkerKit, CREATE, EDIT, down, refused } from "./support/plan-worker";
import type { Harness } from "./support/harness";
import { applyPlan } from "./support/plans";

let h: Harness;
const { count, run, row, setRow, newPlan, posts, looks, titled, madePlan, edit, waiting, apiBlock, lostCreate } =
  planWorkerKit(() => h);

/**
 * A block whose create went out with the plan's first times and whose worker died before the answer:
 * the row says it was sent (and with what), and HighLevel holds the block.
 */
async function sentThenLost() {
  const plan = await newPlan();
  h.sandbox.state.failNext(CREATE, down, 3); // the create and its two re-sends
  await expect(run(plan.planId, plan.blockId)).rejects.toThrow();
  const sent = await row(plan.blockId);
  expect(sent).toMatchObject({
    sent: true,
    blockSlotId: null,
    appliedStartTime: sent.startTime,
    appliedTitle: plan.title,
  });
  await lostCreate(plan.blockId);
  h.sandbox.state.resetRequests();
  return plan;
}

beforeAll(async () => {
  h = await startPlanHarness();
});
afterAll(() => h.close());
afterEach(() => expect(h.sandbox.state.invalidRequests()).toEqual([]));

describe("a wanted block", () => {
  it("is created without looking first, and its row says what HighLevel holds", async () => {
    const { planId, blockId, title } = await newPlan();
    await setRow(blockId, { errorCode: "upstream_error", errorDetail: "an earlier failure" });
    const queued = (await waiting(blockId)).length;
    await run(planId, blockId);
    const [made] = titled(title);
    const r = await row(blockId);
    expect(r).toMatchObject({
      status: "created",
      blockSlotId: made!.id,
      appliedStartTime: r.startTime,
      appliedEndTime: r.endTime,
      appliedTitle: title,
      sent: false,
      leaseUntil: null,
      failures: 0,
      errorCode: null,
      errorDetail: null,
    });
    expect(made).toMatchObject({ locationId: "clinic-ny", calendarId: "ny-chairs", startTime: r.startTime });
    expect([posts(), looks()]).toEqual([1, 0]);
    expect(await h.db.block.count({ where: { blockSlotId: made!.id, origin: "plan", originId: planId } })).toBe(1);
    expect(await waiting(blockId)).toHaveLength(queued); // settled: nothing queued again
  });

  it("of a user target blocks that user's time", async () => {
    const { planId, blockId, title } = await newPlan({ locationId: "clinic-ny", userIds: ["lee-ny"] });
    await run(planId, blockId);
    const [made] = titled(title);
    expect(made).toMatchObject({ assignedUserId: "lee-ny" });
    expect(made!.calendarId).toBeUndefined();
  });

  it("whose create went out before a crash looks first and adopts the block HighLevel made", async () => {
    const { planId, blockId, title } = await newPlan();
    const lost = await lostCreate(blockId);
    await setRow(blockId, { sent: true, startedAt: new Date(), leaseUntil: new Date(Date.now() - 1000) });
    await run(planId, blockId);
    expect(await row(blockId)).toMatchObject({ status: "created", blockSlotId: lost, sent: false });
    expect([looks(), posts()]).toEqual([1, 0]);
    expect(titled(title)).toHaveLength(1);
  });

  it("whose create went out before a crash, then the plan changed, is found as sent and moved: one block", async () => {
    const { planId, blockId, body, title } = await sentThenLost();
    const day = body.schedule.start.slice(0, 10);
    const renamed = `${title} (moved)`;
    await edit(planId, { ...body, title: renamed, schedule: { start: `${day}T14:00`, end: `${day}T15:00` } });

    await run(planId, blockId);
    await run(planId, blockId); // the entry the first run queued: the adopted block is moved
    expect(posts()).toBe(0);
    expect(count("PUT", EDIT)).toBe(1);
    expect(titled(title)).toHaveLength(0);
    const [moved] = titled(renamed);
    expect(moved?.startTime).toBe((await row(blockId)).startTime);
    expect(await row(blockId)).toMatchObject({ status: "created", blockSlotId: moved!.id, appliedTitle: renamed });
  });

  it("whose create went out before a crash, then the plan was deleted, deletes the block it sent", async () => {
    const { planId, blockId, title } = await sentThenLost();
    await edit(planId);
    await run(planId, blockId);
    expect(titled(title)).toHaveLength(0);
    expect(await row(blockId)).toMatchObject({ status: "removed", blockSlotId: null });
  });

  it("whose create went out before a crash but never reached HighLevel looks, then is created once", async () => {
    const { planId, blockId, title } = await newPlan();
    await setRow(blockId, { sent: true, startedAt: new Date() });
    await run(planId, blockId);
    expect([looks(), posts()]).toEqual([1, 1]);
    expect(titled(title)).toHaveLength(1);
    expect((await row(blockId)).blockSlotId).toBe(titled(title)[0]!.id);
  });

  it("whose block was made and recorded, but the worker died before its row said so, adopts it: one block", async () => {
    const { planId, blockId, title } = await madePlan();
    const made = titled(title).map((s) => s.id);
    // The row as the claim left it: the create was sent; its answer never reached the row.
    await setRow(blockId, { status: "pending", blockSlotId: null, sent: true, startedAt: new Date() });

    await run(planId, blockId);
    expect([looks(), posts()]).toEqual([1, 0]);
    expect(titled(title).map((s) => s.id)).toEqual(made);
    expect(await row(blockId)).toMatchObject({ status: "created", blockSlotId: made[0] });
  });

  it("adopts only a block its own plan made: an equal block of the API or another plan is left alone", async () => {
    const mine = await newPlan();
    const other = await applyPlan(h, mine.body);
    const byApi = await apiBlock(mine.blockId);
    await run(other.planId, other.blockIds[0]!);
    await setRow(mine.blockId, { sent: true, startedAt: new Date() });
    h.sandbox.state.resetRequests();

    await run(mine.planId, mine.blockId);
    expect([looks(), posts()]).toEqual([1, 1]);
    const ids = titled(mine.title).map((s) => s.id);
    expect(ids).toHaveLength(3);
    const own = (await row(mine.blockId)).blockSlotId;
    expect([byApi, (await row(other.blockIds[0]!)).blockSlotId]).not.toContain(own);
    expect(ids).toContain(own);
  });
});

describe("claims", () => {
  it("a live lease makes a second claim back off untouched; a run-out lease is taken over", async () => {
    const { planId, blockId, title } = await newPlan();
    const leaseUntil = new Date(Date.now() + 60_000);
    await setRow(blockId, { startedAt: new Date(), leaseUntil });
    await expect(run(planId, blockId)).rejects.toThrow(/held by another worker/);
    expect(h.sandbox.state.requests).toEqual([]);
    expect(await row(blockId)).toMatchObject({ status: "pending", leaseUntil, failures: 0 });

    await setRow(blockId, { leaseUntil: new Date(Date.now() - 1000) });
    await run(planId, blockId);
    expect(await row(blockId)).toMatchObject({ status: "created", leaseUntil: null });
    expect(titled(title)).toHaveLength(1);
  });

  it("a created or failed block, or one whose plan is gone, is left alone without an error", async () => {
    const created = await madePlan();
    const failed = await newPlan();
    h.sandbox.state.failNext(CREATE, refused);
    await run(failed.planId, failed.blockId);
    const gone = await newPlan();
    await h.db.blockPlan.delete({ where: { id: gone.planId } });
    const before = await Promise.all([created, failed].map((p) => row(p.blockId)));
    expect(before.map((r) => r.status)).toEqual(["created", "failed"]);
    h.sandbox.state.resetRequests();

    for (const p of [created, failed, gone]) await expect(run(p.planId, p.blockId)).resolves.toBeUndefined();
    expect(h.sandbox.state.requests).toEqual([]);
    expect(await Promise.all([created, failed].map((p) => row(p.blockId)))).toEqual(before);
  });
});

describe("a block the plan no longer wants", () => {
  it("is deleted in HighLevel", async () => {
    const { planId, blockId, blockSlotId } = await madePlan();
    await edit(planId);
    await run(planId, blockId);
    expect(count("DELETE", `/calendars/events/${blockSlotId}`)).toBe(1);
    expect(h.sandbox.state.slots.has(blockSlotId)).toBe(false);
    expect(await row(blockId)).toMatchObject({ status: "removed", blockSlotId: null, appliedTitle: null });
  });

  it("whose create may have gone out is looked up and deleted, and an equal block of another origin kept", async () => {
    const { planId, blockId, title } = await newPlan();
    const lost = await lostCreate(blockId);
    await apiBlock(blockId);
    await setRow(blockId, { sent: true, startedAt: new Date() });
    await edit(planId);

    await run(planId, blockId);
    // One look finds it; the delete looks once more: a block the app never recorded is proven a
    // block (listed among HighLevel's block slots) before it is deleted.
    expect(looks()).toBe(2);
    expect(count("DELETE", `/calendars/events/${lost}`)).toBe(1);
    expect(titled(title).map((s) => s.id)).not.toContain(lost);
    expect(titled(title)).toHaveLength(1);
    expect(await row(blockId)).toMatchObject({ status: "removed", blockSlotId: null, sent: false });
  });

  it("that HighLevel fails to delete keeps its block id and is retried, not taken as removed", async () => {
    const { planId, blockId, blockSlotId } = await madePlan();
    await edit(planId);
    h.sandbox.state.failNext({ method: "DELETE", path: `/calendars/events/${blockSlotId}` }, down, 3);
    await expect(run(planId, blockId)).rejects.toThrow(/HighLevel is down/);
    expect(h.sandbox.state.slots.has(blockSlotId)).toBe(true);
    expect(await row(blockId)).toMatchObject({ status: "pending", wanted: false, blockSlotId, failures: 1 });

    await run(planId, blockId);
    expect(h.sandbox.state.slots.has(blockSlotId)).toBe(false);
    expect(await row(blockId)).toMatchObject({ status: "removed", blockSlotId: null });
  });

  it("already deleted by hand in HighLevel is removed without an error", async () => {
    const { planId, blockId, blockSlotId } = await madePlan();
    h.sandbox.state.slots.delete(blockSlotId);
    await edit(planId);
    await expect(run(planId, blockId)).resolves.toBeUndefined();
    expect(await row(blockId)).toMatchObject({ status: "removed", blockSlotId: null, errorCode: null, failures: 0 });
  });
});

describe("a wanted block HighLevel already holds", () => {
  it("sends nothing when HighLevel holds what the plan wants", async () => {
    const { planId, blockId } = await madePlan();
    await setRow(blockId, { status: "pending" }); // a second queue entry, from a change undone
    const before = await row(blockId);
    await run(planId, blockId);
    expect(h.sandbox.state.requests).toEqual([]);
    expect(await row(blockId)).toMatchObject({ status: "created", blockSlotId: before.blockSlotId });
  });

  it("is edited in place, once per change, when its start, end or title changes", async () => {
    const { planId, blockId, blockSlotId, body } = await madePlan();
    const day = body.schedule.start.slice(0, 10);
    const at = (start: string, end: string, title = body.title) => ({
      ...body,
      title,
      schedule: { start: `${day}T${start}`, end: `${day}T${end}` },
    });
    for (const change of [at("11:30", "13:00"), at("11:30", "13:30"), at("11:30", "13:30", `${body.title}, moved`)]) {
      await edit(planId, change);
      await run(planId, blockId);
      expect([count("PUT", EDIT), posts()]).toEqual([1, 0]);
      const r = await row(blockId);
      const applied = { startTime: r.startTime, endTime: r.endTime, title: change.title };
      expect(h.sandbox.state.slots.get(blockSlotId)).toMatchObject(applied);
      expect(r).toMatchObject({
        status: "created",
        blockSlotId,
        appliedStartTime: applied.startTime,
        appliedEndTime: applied.endTime,
        appliedTitle: applied.title,
      });
    }
  });

  /** A made block deleted by hand in HighLevel, then renamed by its plan: the worker's edit meets a 404. */
  async function deletedByHandThenRenamed() {
    const plan = await madePlan();
    h.sandbox.state.slots.delete(plan.blockSlotId);
    const title = `${plan.title}, renamed`;
    await edit(plan.planId, { ...plan.body, title });
    return { ...plan, title };
  }

  it("deleted by hand in HighLevel meanwhile is created again, once", async () => {
    const { planId, blockId, title } = await deletedByHandThenRenamed();
    await run(planId, blockId);
    expect([count("PUT", EDIT), looks(), posts()]).toEqual([1, 0, 1]);
    const [again] = titled(title);
    expect(await row(blockId)).toMatchObject({ status: "created", blockSlotId: again!.id, appliedTitle: title });
  });

  it("deleted by hand, whose new create fails, is remembered as sent and not by its dead id", async () => {
    const { planId, blockId, title } = await deletedByHandThenRenamed();
    h.sandbox.state.failNext(CREATE, down, 3); // the create and its two re-sends
    await expect(run(planId, blockId)).rejects.toThrow();
    expect(await row(blockId)).toMatchObject({ status: "pending", blockSlotId: null, sent: true, failures: 1 });

    h.sandbox.state.resetRequests();
    await run(planId, blockId);
    expect([count("PUT", EDIT), looks(), posts()]).toEqual([0, 1, 1]);
    expect(titled(title)).toHaveLength(1);
  });
});
