/**
 * The plan worker's failures, and changes of the plan that land while HighLevel answers, driven
 * block by block against real PostgreSQL and the sandbox (see test/block-plan-worker.test.ts).
 */
import { startPlanHarness, planWorkerKit, CREATE, EDIT, down, refused } from "./support/plan-worker";
import type { Harness } from "./support/harness";

let h: Harness;
const { count, run, row, setRow, newPlan, posts, titled, madePlan, edit, waiting } = planWorkerKit(() => h);

beforeAll(async () => {
  h = await startPlanHarness();
});
afterAll(() => h.close());
afterEach(() => expect(h.sandbox.state.invalidRequests()).toEqual([]));

describe("a change of the plan while HighLevel answers", () => {
  /** Runs the block; `meanwhile` (a change of the plan) happens once HighLevel has answered `call`. */
  async function runWhile(
    ref: { planId: string; blockId: string },
    call: "create" | "update",
    meanwhile: () => Promise<unknown>,
  ) {
    const slots = h.services.blockSlots;
    const real = slots[call].bind(slots) as (...args: unknown[]) => Promise<never>;
    const spy = jest.spyOn(slots, call).mockImplementation(async (...args: unknown[]) => {
      try {
        return await real(...args);
      } finally {
        await meanwhile();
      }
    });
    try {
      await run(ref.planId, ref.blockId);
    } finally {
      spy.mockRestore();
    }
  }

  it("after a create, the block is queued again for the change", async () => {
    const plan = await newPlan();
    const { blockId, title } = plan;
    const queued = (await waiting(blockId)).length;
    await runWhile(plan, "create", () => setRow(blockId, { title: `${title}, moved` })); // what a change writes
    expect(await row(blockId)).toMatchObject({ status: "pending", appliedTitle: title });
    expect(await waiting(blockId)).toHaveLength(queued + 1);

    await run(plan.planId, blockId);
    expect(await row(blockId)).toMatchObject({ status: "created", appliedTitle: `${title}, moved` });
    expect([posts(), count("PUT", EDIT)]).toEqual([1, 1]);
  });

  it("after a refusal, the block is not failed but settled again: a plan deleted meanwhile deletes it", async () => {
    const plan = await madePlan();
    const { planId, blockId, blockSlotId, body } = plan;
    await edit(planId, { ...body, title: `${body.title}, moved` });
    h.sandbox.state.failNext({ method: "PUT", path: EDIT }, refused);
    await runWhile(plan, "update", () => edit(planId));
    expect(await row(blockId)).toMatchObject({ status: "pending", wanted: false, failures: 0 });

    await run(planId, blockId);
    expect(h.sandbox.state.slots.has(blockSlotId)).toBe(false);
    expect(await row(blockId)).toMatchObject({ status: "removed", blockSlotId: null });
  });
  it("after a refusal, a rename meanwhile is tried again, not failed", async () => {
    const plan = await newPlan();
    const title = `${plan.title}, renamed`;
    h.sandbox.state.failNext(CREATE, refused);
    await runWhile(plan, "create", () => edit(plan.planId, { ...plan.body, title }));
    expect(await row(plan.blockId)).toMatchObject({ status: "pending", failures: 0 });

    await run(plan.planId, plan.blockId);
    expect(await row(plan.blockId)).toMatchObject({ status: "created", appliedTitle: title });
    expect(titled(title)).toHaveLength(1);
  });

  it("after a refusal, a new start or a new end meanwhile is tried again, not failed", async () => {
    for (const moved of [{ start: "T11:30" }, { end: "T13:30" }]) {
      const plan = await newPlan();
      const day = plan.body.schedule.start.slice(0, 10);
      const schedule = {
        start: `${day}${moved.start ?? "T12:00"}`,
        end: `${day}${moved.end ?? "T13:00"}`,
      };
      h.sandbox.state.failNext(CREATE, refused);
      await runWhile(plan, "create", () => edit(plan.planId, { ...plan.body, schedule }));
      expect(await row(plan.blockId)).toMatchObject({ status: "pending", failures: 0 });
    }
  });
});

describe("failures", () => {
  it("a transient one is counted and the block released to be retried; the fifth fails it", async () => {
    const { planId, blockId, title } = await newPlan();
    await setRow(blockId, { failures: 3 });
    h.sandbox.state.failNext(CREATE, down, 3);
    await expect(run(planId, blockId)).rejects.toThrow(/HighLevel is down/);
    const error = { errorCode: "upstream_error", errorDetail: expect.stringContaining("HighLevel is down") };
    expect(await row(blockId)).toMatchObject({
      status: "pending",
      failures: 4,
      sent: true,
      leaseUntil: null,
      ...error,
    });

    h.sandbox.state.failNext(CREATE, down, 3);
    await expect(run(planId, blockId)).resolves.toBeUndefined();
    expect(await row(blockId)).toMatchObject({ status: "failed", failures: 5, ...error });
    expect(titled(title)).toHaveLength(0);
  });

  it("a removal that failed for good is tried again by the next change of the plan", async () => {
    const { planId, blockId, body } = await madePlan();
    // The plan moves to another day: its block there is no longer wanted, and HighLevel refuses the delete.
    const moved = { ...body, schedule: { start: "2028-02-01T12:00", end: "2028-02-01T13:00" } };
    await edit(planId, moved);
    h.sandbox.state.failNext({ method: "DELETE", path: "/calendars/events/" }, refused);
    await run(planId, blockId);
    expect(await row(blockId)).toMatchObject({ status: "failed", wanted: false });

    // Any later change is the user asking again, for the removal too.
    await edit(planId, { ...moved, title: `${body.title}, renamed` });
    expect(await row(blockId)).toMatchObject({ status: "pending", wanted: false, failures: 0 });
    await run(planId, blockId);
    expect(await row(blockId)).toMatchObject({ status: "removed" });
  });

  it("a refusal fails the block at once with HighLevel's reason", async () => {
    const { planId, blockId } = await newPlan();
    h.sandbox.state.failNext(CREATE, refused);
    await expect(run(planId, blockId)).resolves.toBeUndefined();
    expect(await row(blockId)).toMatchObject({
      status: "failed",
      failures: 1,
      errorCode: "invalid_request",
      errorDetail: "closed that day",
      leaseUntil: null,
    });
    expect(posts()).toBe(1);
  });

  it("a bug fails the block at once and is logged as an error for the operator; a refusal is not", async () => {
    const bugs = (blockId: string) =>
      h.logs.withMessage("plan block failed: a bug").filter((r) => r.blockId === blockId);
    const refusedPlan = await newPlan();
    h.sandbox.state.failNext(CREATE, refused);
    await run(refusedPlan.planId, refusedPlan.blockId);
    expect(bugs(refusedPlan.blockId)).toEqual([]);

    const { planId, blockId } = await newPlan();
    const spy = jest.spyOn(h.services.blockSlots, "create").mockRejectedValue(new TypeError("slot.id is undefined"));
    try {
      await expect(run(planId, blockId)).resolves.toBeUndefined();
    } finally {
      spy.mockRestore();
    }
    expect(await row(blockId)).toMatchObject({ status: "failed", failures: 1, errorCode: "internal_error" });
    expect(bugs(blockId)).toEqual([
      expect.objectContaining({ level: 50, planId, err: expect.objectContaining({ message: "slot.id is undefined" }) }),
    ]);
  });

  it("after a refusal, the plan changed to what HighLevel accepts is sent as changed, once", async () => {
    const { planId, blockId, body, title } = await newPlan();
    h.sandbox.state.failNext(CREATE, refused);
    await run(planId, blockId);
    const accepted = `${title}, another day`;
    await edit(planId, { ...body, title: accepted });
    await run(planId, blockId);
    expect([posts(), count("PUT", EDIT)]).toEqual([1, 0]);
    expect(titled(accepted)).toHaveLength(1);
    expect(await row(blockId)).toMatchObject({ status: "created", appliedTitle: accepted });
  });

  // Last, and in London: HighLevel's 429 holds the location's calls for a while.
  it("a rate limit is not a failure: the block is released and queued for when HighLevel says", async () => {
    const { planId, blockId } = await newPlan({ locationId: "clinic-ldn", calendarIds: ["ldn-chairs"] });
    await setRow(blockId, { failures: 4 });
    const before = await waiting(blockId);
    const body = { statusCode: 429, message: "Too many requests" };
    h.sandbox.state.failNext(CREATE, { status: 429, headers: { "Retry-After": "30" }, body });
    await expect(run(planId, blockId)).resolves.toBeUndefined();
    expect(await row(blockId)).toMatchObject({ status: "pending", failures: 4, leaseUntil: null, errorCode: null });
    const after = await waiting(blockId);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)!.startAfter.getTime()).toBeGreaterThan(Date.now() + 25_000);
  });
});
