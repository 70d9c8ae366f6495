import { apiAs, installCompany, installLocation } from "./support/api";
import { waitForJob } from "./support/bulk";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { waitForPlan } from "./support/plans";
import { AGENCY, SOLO, withCalendars } from "./support/sandbox-fixtures";
import { deliver, event, processed, webhookSigners } from "./support/webhooks";

const signers = webhookSigners();
const SLOT = {
  calendarId: "cal-1",
  title: "Team training",
  startTime: "2030-05-01T12:00:00+02:00",
  endTime: "2030-05-01T13:00:00+02:00",
};
const SOLO_SLOTS = "/api/locations/loc-solo/block-slots";

interface Wire {
  id: string;
  at: string;
  actor: { type: string; kind: string; id: string | null; name: string | null };
  action: string;
  target: { type: string; id: string | null; calendarId?: string | null; assignedUserId?: string | null } | null;
  outcome: string;
  errorCode: string | null;
  companyId: string | null;
  locationId: string | null;
  blockSlotId: string | null;
  calendarId: string | null;
  assignedUserId: string | null;
  subjectId: string | null;
}

let h: Harness;
beforeAll(async () => {
  // Rules name calendars HighLevel has: loc-a's cal-1.
  h = await startHarness({
    sandbox: { companies: [withCalendars(AGENCY, { "loc-a": ["cal-1"] }), SOLO] },
    env: signers.env,
    jobs: true,
  });
  await installLocation(h, "loc-solo");
  await installCompany(h, "agency-1");
});
afterAll(() => h.close());

/** The trail as the API answers it, newest first. */
async function trail(query: Record<string, string> = {}, key = TEST_API_KEY): Promise<Wire[]> {
  const res = await apiAs(h, key).get("/api/audit").query(query).expect(200);
  return res.body.events as Wire[];
}

describe("what the trail records", () => {
  it("a block created, edited and deleted through the API, with the key that asked", async () => {
    const key = await h.services.apiKeys.create("Front desk sync", { scope: "location", locationId: "loc-solo" });
    const made = await apiAs(h, key.key).post(SOLO_SLOTS).send(SLOT).expect(201);
    await apiAs(h, key.key)
      .put(`${SOLO_SLOTS}/${made.body.id}`)
      .send({ ...SLOT, title: "Moved" })
      .expect(200);
    await apiAs(h, key.key).delete(`${SOLO_SLOTS}/${made.body.id}`).expect(204);

    const events = await trail({ actor: key.id });
    expect(events.map((e) => e.action)).toEqual(["block.deleted", "block.updated", "block.created"]);
    for (const e of events) {
      expect(e).toMatchObject({
        actor: { type: "api_key", kind: "api_key", id: key.id, name: "Front desk sync" },
        outcome: "ok",
        errorCode: null,
        companyId: "agency-2",
        locationId: "loc-solo",
        blockSlotId: made.body.id,
        calendarId: "cal-1",
        target: { type: "block_slot", id: made.body.id, calendarId: "cal-1", assignedUserId: null },
      });
    }
  });

  it("a change HighLevel refuses, as failed with its code", async () => {
    await apiAs(h).delete(`${SOLO_SLOTS}/no-such-block`).expect(404);
    const [last] = await trail({ locationId: "loc-solo", limit: "1" });
    expect(last).toMatchObject({
      action: "block.deleted",
      outcome: "failed",
      errorCode: "not_found",
      blockSlotId: "no-such-block",
      actor: { kind: "api_key", name: "Test operator" },
    });
  });

  it("a bulk item's block, by its job", async () => {
    const res = await apiAs(h)
      .post("/api/block-slots/bulk")
      .send({ items: [{ locationId: "loc-a", ...SLOT, title: "Bulk" }] })
      .expect(202);
    await waitForJob(h, res.body.id);
    const events = await trail({ actor: res.body.id });
    expect(events).toEqual([
      expect.objectContaining({
        action: "block.created",
        actor: { type: "system", kind: "bulk_job", id: res.body.id, name: "api" },
        companyId: "agency-1",
        locationId: "loc-a",
        blockSlotId: expect.any(String),
      }),
    ]);
    // Filtered by the contract's actor type: the app's own work, of every kind.
    const system = await trail({ actor: "system", limit: "500" });
    expect(system.map((e) => e.id)).toContain(events[0]!.id);
    expect(system.every((e) => e.actor.type === "system")).toBe(true);
  });

  it("a blocking rule created and deleted", async () => {
    const rule = await apiAs(h)
      .post("/api/blocking-rules")
      .send({
        source: { locationId: "loc-a", calendarId: "cal-1" },
        targets: [{ locationId: "loc-b", assignedUserId: "user-1" }],
      })
      .expect(201);
    await apiAs(h).delete(`/api/blocking-rules/${rule.body.id}`).expect(204);
    const events = (await trail({ limit: "500" })).filter((e) => e.subjectId === rule.body.id);
    expect(events.map((e) => e.action)).toEqual(["rule.deleted", "rule.created"]);
    // The rule's own tenancy: it lies in the agency, across two of its sub-accounts.
    expect(events[0]).toMatchObject({
      calendarId: "cal-1",
      companyId: "agency-1",
      locationId: null,
      actor: { kind: "api_key" },
      target: { type: "blocking_rule", id: rule.body.id },
    });
  });

  it("a rule's records show to those who may list it, not to its source's key alone", async () => {
    const sourceKey = await h.services.apiKeys.create("loc-a desk", { scope: "location", locationId: "loc-a" });
    const agencyKey = await h.services.apiKeys.create("Agency desk", { scope: "company", companyId: "agency-1" });
    const across = await apiAs(h)
      .post("/api/blocking-rules")
      .send({
        source: { locationId: "loc-a", calendarId: "cal-1" },
        targets: [{ locationId: "loc-b", assignedUserId: "user-1" }],
      })
      .expect(201);
    const within = await apiAs(h)
      .post("/api/blocking-rules")
      .send({
        source: { locationId: "loc-a", calendarId: "cal-1" },
        targets: [{ locationId: "loc-a", assignedUserId: "user-1" }],
      })
      .expect(201);
    const rulesSeen = async (key: string) =>
      (await trail({ limit: "500" }, key)).filter((e) => e.action === "rule.created").map((e) => e.subjectId);
    // loc-a's key cannot list the rule that reaches loc-b, so its record is not loc-a's either.
    expect(await rulesSeen(sourceKey.key)).toEqual([within.body.id]);
    expect(await rulesSeen(agencyKey.key)).toEqual(expect.arrayContaining([across.body.id, within.body.id]));
    await apiAs(h, sourceKey.key).get(`/api/blocking-rules/${across.body.id}`).expect(404);
    await apiAs(h).delete(`/api/blocking-rules/${across.body.id}`).expect(204);
    await apiAs(h).delete(`/api/blocking-rules/${within.body.id}`).expect(204);
  });

  it("an API key created and revoked, named by id and never shown", async () => {
    const key = await h.services.apiKeys.create("Temp", { scope: "company", companyId: "agency-1" });
    expect(await h.services.apiKeys.revoke(key.key)).toBe(true);
    const events = (await trail({ actor: "cli" })).filter((e) => e.subjectId === key.id);
    expect(events.map((e) => e.action)).toEqual(["api_key.revoked", "api_key.created"]);
    expect(events[0]).toMatchObject({
      companyId: "agency-1",
      locationId: null,
      actor: { type: "system", kind: "cli" },
      target: { type: "api_key", id: key.id },
    });
  });

  it("installs (by the consenting user) and an uninstall (by the webhook)", async () => {
    // The contract's actor type for the HighLevel user who consented.
    const installs = await trail({ actor: "sso_user" });
    expect(installs).toContainEqual(
      expect.objectContaining({
        action: "install",
        locationId: "loc-solo",
        companyId: "agency-2",
        target: { type: "location", id: "loc-solo" },
      }),
    );
    expect(installs).toContainEqual(
      expect.objectContaining({
        action: "install",
        companyId: "agency-1",
        locationId: null,
        target: { type: "agency", id: "agency-1" },
      }),
    );
    expect(await trail({ actor: "user" })).toEqual(installs);

    const payload = event({ type: "UNINSTALL", appId: "app", companyId: "agency-1", locationId: "loc-b" });
    await deliver(h, signers, payload).expect(200);
    await processed(h, payload.webhookId);
    expect(await trail({ actor: payload.webhookId })).toEqual([
      expect.objectContaining({
        action: "uninstall",
        actor: { type: "webhook", kind: "webhook", id: payload.webhookId, name: "UNINSTALL" },
        companyId: "agency-1",
        locationId: "loc-b",
      }),
    ]);
  });

  it("a plan applied and undone, and the blocks it made", async () => {
    const plan = await apiAs(h)
      .post("/api/block-plans")
      .send({
        title: "Lunch",
        targets: [{ locationId: "loc-solo", userIds: ["user-1"] }],
        schedule: { start: "2030-06-03T12:00", end: "2030-06-03T13:00", rrule: "FREQ=DAILY;COUNT=2" },
      })
      .expect(202);
    await waitForPlan(h, plan.body.id);
    await apiAs(h).delete(`/api/block-plans/${plan.body.id}`).expect(202);
    await waitForPlan(h, plan.body.id);

    const byKey = (await trail({ locationId: "loc-solo" })).filter((e) => e.subjectId === plan.body.id);
    expect(byKey.map((e) => e.action)).toEqual(["plan.deleted", "plan.applied"]);
    expect(byKey[0]!.target).toEqual({ type: "block_plan", id: plan.body.id });
    const blocks = await trail({ actor: plan.body.id });
    expect(blocks.map((e) => e.action).sort()).toEqual([
      "block.created",
      "block.created",
      "block.deleted",
      "block.deleted",
    ]);
    expect(blocks[0]).toMatchObject({ actor: { kind: "plan", id: plan.body.id }, locationId: "loc-solo" });
  });
});

describe("reading the trail", () => {
  it("a location key sees its own location's records only", async () => {
    const key = await h.services.apiKeys.create("Solo only", { scope: "location", locationId: "loc-solo" });
    await apiAs(h).post("/api/locations/loc-a/block-slots").send(SLOT).expect(201);
    const everything = await trail({ limit: "500" });
    expect(everything.some((e) => e.locationId === "loc-a")).toBe(true);

    const seen = await trail({ limit: "500" }, key.key);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.locationId === "loc-solo")).toBe(true);
    const refused = await apiAs(h, key.key).get("/api/audit").query({ locationId: "loc-a" }).expect(403);
    expect(refused.body.code).toBe("forbidden");
  });

  it("an agency key sees a plan an operator's full-access key applied across its locations", async () => {
    // Its own harness: a plan with blocks in two of the agency's locations (the trail above uninstalls one).
    const own = await startHarness({
      sandbox: { companies: [withCalendars(AGENCY, { "loc-a": ["cal-1"], "loc-b": ["cal-2"] })] },
      jobs: true,
    });
    try {
      await installCompany(own, "agency-1");
      const plan = await apiAs(own)
        .post("/api/block-plans")
        .send({
          title: "Agency training",
          targets: [{ companyId: "agency-1", calendars: "all" }],
          schedule: { start: "2030-07-01T09:00", end: "2030-07-01T10:00" },
        })
        .expect(202);
      await waitForPlan(own, plan.body.id);
      const read = async (key: string) =>
        ((await apiAs(own, key).get("/api/audit").query({ limit: "500" }).expect(200)).body.events as Wire[]).filter(
          (e) => e.subjectId === plan.body.id,
        );
      const agencyKey = await own.services.apiKeys.create("Agency ops", { scope: "company", companyId: "agency-1" });
      expect(await read(agencyKey.key)).toEqual([
        expect.objectContaining({
          action: "plan.applied",
          companyId: "agency-1",
          locationId: null,
          target: { type: "block_plan", id: plan.body.id },
        }),
      ]);
      const other = await own.services.apiKeys.create("Other agency", { scope: "company", companyId: "agency-2" });
      expect(await read(other.key)).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it("pages newest first with a cursor, without repeating a record", async () => {
    const all = await trail({ limit: "500" });
    const first = await apiAs(h).get("/api/audit").query({ limit: "2" }).expect(200);
    const second = await apiAs(h).get("/api/audit").query({ limit: "2", cursor: first.body.next }).expect(200);
    const ids = [...first.body.events, ...second.body.events].map((e: Wire) => e.id);
    expect(ids).toEqual(all.slice(0, 4).map((e) => e.id));
    expect(Number(ids[0])).toBeGreaterThan(Number(ids[1]));
    // The last page has no `next` at all (the contract's `next?`), so a loop on it ends there.
    const last = await apiAs(h).get("/api/audit").query({ limit: "500" }).expect(200);
    expect(last.body).not.toHaveProperty("next");
  });

  it("answers bad input with 400 naming the field", async () => {
    for (const [query, field] of [
      [{ since: "yesterday" }, "since"],
      [{ cursor: "abc" }, "cursor"],
      [{ limit: "0" }, "limit"],
      [{ since: "2030-01-02T00:00:00Z", until: "2030-01-01T00:00:00Z" }, "until"],
    ] as const) {
      const res = await apiAs(h).get("/api/audit").query(query).expect(400);
      expect(res.headers["content-type"]).toContain("application/problem+json");
      expect(res.body.errors).toEqual([expect.objectContaining({ path: field })]);
    }
  });

  it("holds no token, key or secret in any record", async () => {
    const rows = JSON.stringify(await h.db.auditEvent.findMany(), (_k, v: unknown) =>
      typeof v === "bigint" ? v.toString() : v,
    );
    expect(rows.length).toBeGreaterThan(100);
    const secrets = [
      TEST_API_KEY,
      h.config.HIGHLEVEL_CLIENT_SECRET,
      h.config.TOKEN_ENCRYPTION_KEY,
      ...h.sandbox.state.accessTokens.keys(),
      ...h.sandbox.state.refreshTokens.keys(),
    ];
    expect(secrets.length).toBeGreaterThan(4);
    for (const secret of secrets) expect(rows).not.toContain(secret);
    expect(rows).not.toMatch(/hlbs_/);
  });
});

describe("when the trail cannot be written", () => {
  it("the change still stands, and the lost record is logged", async () => {
    await h.db.$executeRawUnsafe("ALTER TABLE audit_events RENAME TO audit_events_away");
    try {
      const made = await apiAs(h)
        .post(SOLO_SLOTS)
        .send({ ...SLOT, title: "Unaudited" })
        .expect(201);
      const ledger = await h.db.block.findUnique({ where: { blockSlotId: made.body.id } });
      expect(ledger).toMatchObject({ locationId: "loc-solo", title: "Unaudited", origin: "api" });
      expect(h.logs.text).toContain("audit record not written");
      expect(h.logs.text).toContain(made.body.id);
    } finally {
      await h.db.$executeRawUnsafe("ALTER TABLE audit_events_away RENAME TO audit_events");
    }
  });
});
