/**
 * Driving PlanWorker by hand, one block at a time (test/block-plan-worker*.test.ts): the queue
 * is started, so re-queued blocks are accepted, but nobody works it.
 */
import { apiAs, installCompany } from "./api";
import { startHarness, type Harness } from "./harness";
import { applyPlan, CLINICS, PLANS } from "./plans";
import { CREATE_REQUEST } from "./sandbox-fixtures";

export const LOOK = "/calendars/blocked-slots";
export const EDIT = "/calendars/events/block-slots/";
export const CREATE = CREATE_REQUEST;
export const refused = { status: 422, body: { statusCode: 422, message: ["closed that day"] } };
export const down = { status: 503, body: { statusCode: 503, message: "HighLevel is down" } };

export async function startPlanHarness(): Promise<Harness> {
  const h = await startHarness({ sandbox: { companies: [CLINICS] } });
  await installCompany(h, CLINICS.id);
  await h.services.queue.start();
  return h;
}

type RowData = Parameters<Harness["db"]["planBlock"]["update"]>[0]["data"];
let lunches = 0;

/** Steps and readings over the harness `of()` returns at each call (so they can be made before it starts). */
export function planWorkerKit(of: () => Harness) {
  const count = (method: string, path: string) => of().sandbox.state.count(method, path);
  const run = (planId: string, blockId: string) => of().services.planWorker.process({ planId, blockId });
  const row = (id: string) => of().db.planBlock.findUniqueOrThrow({ where: { id } });
  const setRow = (id: string, data: RowData) => of().db.planBlock.update({ where: { id }, data });

  /**
   * Applies a plan of one lunch-hour block (by default on clinic-ny's chairs), on a day and with
   * a title no earlier plan used, then forgets the requests it took to plan it. Nothing is sent.
   */
  async function newPlan(target: Record<string, unknown> = { locationId: "clinic-ny", calendarIds: ["ny-chairs"] }) {
    lunches += 1;
    const day = new Date(Date.UTC(2027, 0, lunches)).toISOString().slice(0, 10);
    const schedule = { start: `${day}T12:00`, end: `${day}T13:00` };
    const body = { title: `Lunch ${lunches}`, targets: [target], schedule };
    const { planId, blockIds } = await applyPlan(of(), body);
    of().sandbox.state.resetRequests();
    return { planId, blockId: blockIds[0]!, body, title: body.title };
  }

  return {
    count,
    run,
    row,
    setRow,
    newPlan,
    posts: () => count("POST", CREATE.path),
    looks: () => count("GET", LOOK),
    titled: (title: string) =>
      of()
        .sandbox.state.blockSlots()
        .filter((s) => s.title === title),

    /** A plan whose block the worker has made. */
    async madePlan() {
      const plan = await newPlan();
      await run(plan.planId, plan.blockId);
      of().sandbox.state.resetRequests();
      return { ...plan, blockSlotId: (await row(plan.blockId)).blockSlotId! };
    },

    /** Changes (with a body) or deletes the plan through the API, as its owner would. */
    async edit(planId: string, body?: object) {
      const api = apiAs(of());
      await (body ? api.put(`${PLANS}/${planId}`).send(body) : api.delete(`${PLANS}/${planId}`)).expect(202);
      of().sandbox.state.resetRequests();
    },

    /** Queue entries waiting for the block (nobody has worked them), oldest first. */
    waiting: (blockId: string) =>
      of().db.$queryRaw<{ startAfter: Date }[]>`
        SELECT start_after AS "startAfter" FROM pgboss.job
        WHERE name = 'plan-block' AND state IN ('created', 'retry') AND data->>'blockId' = ${blockId}
        ORDER BY start_after`,

    /** An equal block made through the app's API: another origin than any plan. Its id. */
    async apiBlock(blockId: string): Promise<string> {
      const { calendarId, startTime, endTime, title } = await row(blockId);
      const made = await apiAs(of())
        .post("/api/locations/clinic-ny/block-slots")
        .send({ calendarId, startTime, endTime, title })
        .expect(201);
      return made.body.id as string;
    },

    /**
     * Puts in HighLevel the block the block's create made when its answer (and the worker) were
     * lost: HighLevel holds it, the app never recorded it. Its id.
     */
    async lostCreate(blockId: string): Promise<string> {
      const { locationId, calendarId, startTime, endTime, title } = await row(blockId);
      const [id, now] = [`lost-${blockId}`, new Date().toISOString()];
      const slot = { id, locationId, calendarId: calendarId!, startTime, endTime, title };
      of().sandbox.state.slots.set(id, { ...slot, dateAdded: now, dateUpdated: now });
      return id;
    },
  };
}
