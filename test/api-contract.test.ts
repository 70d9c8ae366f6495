import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import request from "supertest";
import type { Operation } from "../src/http/operation";
import { openApiPath } from "../src/http/openapi";
import { apiOperations } from "../src/operations";
import { apiAs, installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { SOLO, withCalendars } from "./support/sandbox-fixtures";
import { deliver, event, webhookSigners } from "./support/webhooks";

/**
 * Every operation is called once as a client would, and its real answer is checked against the
 * schema the OpenAPI document publishes for that status: the docs cannot promise what the code
 * does not send.
 */
const signers = webhookSigners();
let h: Harness;
let doc: { paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: unknown };
let ajv: Ajv2020;

beforeAll(async () => {
  h = await startHarness({
    sandbox: { companies: [withCalendars(SOLO, { "loc-solo": ["cal-1"] })] },
    env: signers.env,
  });
  await installLocation(h, "loc-solo");
  doc = (await request(h.app).get("/api/openapi.json").expect(200)).body;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "doc", components: doc.components });
});
afterAll(() => h.close());

const SLOT = {
  calendarId: "cal-1",
  title: "Contract check",
  startTime: "2030-06-01T12:00:00+02:00",
  endTime: "2030-06-01T13:00:00+02:00",
};
const SLOTS = "/api/locations/loc-solo/block-slots";

const PLAN = {
  title: "Contract plan",
  targets: [{ locationId: "loc-solo", userIds: ["user-1"] }],
  schedule: { start: "2030-06-03T12:00", end: "2030-06-03T13:00", rrule: "FREQ=DAILY;COUNT=3" },
};

/** Made as the calls run: a block slot, a bulk job, a rule, a plan. */
const made: Record<string, string> = {};

/** One call per operation, in an order where later calls use what earlier ones made. */
const CALLS: Record<string, () => Promise<request.Response>> = {
  healthz: () => request(h.app).get("/healthz"),
  readyz: () => request(h.app).get("/readyz"),
  listInstallations: () => apiAs(h).get("/api/installations"),
  createBlockSlot: async () => {
    const res = await apiAs(h).post(SLOTS).set("Idempotency-Key", "contract-1").send(SLOT);
    made.slot = res.body.id;
    return res;
  },
  listBlockSlots: () =>
    apiAs(h)
      .get(SLOTS)
      .query({ calendarId: "cal-1", startTime: "2030-06-01T00:00:00Z", endTime: "2030-06-02T00:00:00Z" }),
  updateBlockSlot: () =>
    apiAs(h)
      .put(`${SLOTS}/${made.slot}`)
      .send({ ...SLOT, title: "Moved" }),
  deleteBlockSlot: () => apiAs(h).delete(`${SLOTS}/${made.slot}`),
  submitBulkJob: async () => {
    // A CSV with one refused row: the job's items then show `line` and an error.
    const res = await apiAs(h)
      .post("/api/block-slots/bulk")
      .query({ invalid: "skip" })
      .type("text/csv")
      .send(
        [
          "locationId,calendarId,assignedUserId,startTime,endTime,title",
          `loc-solo,cal-1,,${SLOT.startTime},${SLOT.endTime},Contract check`,
          `loc-solo,cal-1,,${SLOT.endTime},${SLOT.startTime},Backwards`,
        ].join("\n"),
      );
    made.job = res.body.id;
    return res;
  },
  getBulkJob: () => apiAs(h).get(`/api/block-slots/bulk/${made.job}`),
  cancelBulkJob: () => apiAs(h).delete(`/api/block-slots/bulk/${made.job}`),
  createBlockingRule: async () => {
    const res = await apiAs(h)
      .post("/api/blocking-rules")
      .send({
        name: "Contract",
        source: { locationId: "loc-solo", calendarId: "cal-1" },
        targets: [{ locationId: "loc-solo", assignedUserId: "user-1" }],
      });
    made.rule = res.body.id;
    return res;
  },
  listBlockingRules: () => apiAs(h).get("/api/blocking-rules"),
  getBlockingRule: () => apiAs(h).get(`/api/blocking-rules/${made.rule}`),
  deleteBlockingRule: () => apiAs(h).delete(`/api/blocking-rules/${made.rule}`),
  previewBlockPlan: () => apiAs(h).post("/api/block-plans/preview").send(PLAN),
  createBlockPlan: async () => {
    const res = await apiAs(h).post("/api/block-plans").set("Idempotency-Key", "contract-plan").send(PLAN);
    made.plan = res.body.id;
    return res;
  },
  listBlockPlans: () => apiAs(h).get("/api/block-plans"),
  getBlockPlan: () => apiAs(h).get(`/api/block-plans/${made.plan}`),
  changeBlockPlan: () =>
    apiAs(h)
      .put(`/api/block-plans/${made.plan}`)
      .send({ ...PLAN, schedule: { ...PLAN.schedule, exdates: ["2030-06-04"] } }),
  deleteBlockPlan: () => apiAs(h).delete(`/api/block-plans/${made.plan}`),
  triggerBlockSlot: () =>
    apiAs(h)
      .post("/webhooks/trigger")
      .send({ ...SLOT, locationId: "loc-solo" }),
  receiveHighLevelWebhook: () => deliver(h, signers, event({ type: "AppointmentCreate", locationId: "loc-solo" })),
  // Last: the changes above are in the trail by now.
  listAuditEvents: () => apiAs(h).get("/api/audit").query({ locationId: "loc-solo", limit: "5" }),
};

function check(op: Operation, res: request.Response): void {
  const spec = doc.paths[openApiPath(op.path)]![op.method]!;
  const documented = spec.responses[String(res.status)] as
    { content?: Record<string, { schema: { $ref: string } }> } | undefined;
  expect({ op: op.id, status: res.status, documented: documented !== undefined }).toEqual({
    op: op.id,
    status: res.status,
    documented: true,
  });
  const content = documented!.content;
  if (!content) {
    expect(res.text).toBe("");
    return;
  }
  const [type, { schema }] = Object.entries(content)[0]!;
  expect(res.headers["content-type"]).toContain(type);
  const validate = ajv.compile({ $ref: `doc${schema.$ref}` });
  const valid = validate(res.body);
  expect({ op: op.id, errors: validate.errors ?? [] }).toEqual({ op: op.id, errors: [] });
  expect(valid).toBe(true);
}

describe("every operation answers what the API document says", () => {
  it("has a call for every operation", () => {
    expect(
      apiOperations(h.services)
        .map((op) => op.id)
        .sort(),
    ).toEqual(Object.keys(CALLS).sort());
  });

  it("answers each call with a documented status and a body that fits its published schema", async () => {
    const operations = new Map(apiOperations(h.services).map((op) => [op.id, op]));
    for (const [id, call] of Object.entries(CALLS)) {
      const op = operations.get(id)!;
      const res = await call();
      expect({ id, status: res.status }).toEqual({ id, status: op.response.status });
      check(op, res);
    }
  });

  it("answers refusals as documented problems: no key, bad input", async () => {
    for (const op of apiOperations(h.services).filter((o) => o.auth === "apiKey")) {
      const path = op.path.replace(/:(\w+)/g, "x");
      const res = await request(h.app)[op.method](path);
      expect({ id: op.id, status: res.status }).toEqual({ id: op.id, status: 401 });
      check(op, res);
    }
    const bad = await apiAs(h)
      .post(SLOTS)
      .send({ ...SLOT, endTime: "soon" });
    check(operationsById().get("createBlockSlot")!, bad);
    expect(bad.body.errors).toEqual([expect.objectContaining({ path: "endTime" })]);
  });
});

const operationsById = () => new Map(apiOperations(h.services).map((op) => [op.id, op]));
