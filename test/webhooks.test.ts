import request from "supertest";
import { apiAs, installCompany } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { AGENCY, SOLO } from "./support/sandbox-fixtures";
import { deliver, event, processed, signatureHeaders, webhookSigners } from "./support/webhooks";

const signers = webhookSigners();
const SLOT = { calendarId: "cal-1", startTime: "2030-05-01T12:00:00Z", endTime: "2030-05-01T13:00:00Z" };

describe("webhook intake: only signed, fresh, new deliveries are stored", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: { companies: [SOLO] }, env: signers.env }); // nobody works the queue
  });
  afterAll(() => h.close());

  const install = () => event({ type: "INSTALL", appId: "app", companyId: "agency-2", locationId: "loc-solo" });

  it.each(["ed25519", "rsa"] as const)(
    "accepts a delivery signed with %s and stores it for the queue",
    async (scheme) => {
      const payload = install();
      const res = await deliver(h, signers, payload, { scheme }).expect(200);
      expect(res.body).toEqual({ id: payload.webhookId, status: "accepted" });
      const row = await h.db.webhookEvent.findUniqueOrThrow({ where: { id: payload.webhookId } });
      expect(row).toMatchObject({ type: "INSTALL", locationId: "loc-solo", status: "received" });
    },
  );

  it("accepts a delivery on its RSA signature when its Ed25519 one does not match, and warns about the key", async () => {
    // HighLevel's Ed25519 key is not confirmed; refused, the delivery would never come again.
    const payload = install();
    const body = JSON.stringify(payload);
    const res = await request(h.app)
      .post("/webhooks/highlevel")
      .set("Content-Type", "application/json")
      .set(signatureHeaders(body, "ed25519", webhookSigners().ed25519.privateKey))
      .set(signatureHeaders(body, "rsa", signers.rsa.privateKey))
      .send(body)
      .expect(200);
    expect(res.body).toEqual({ id: payload.webhookId, status: "accepted" });
    expect(h.logs.text).toContain("did not match HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY");
  });

  it("answers a replayed webhookId 200 without storing it twice", async () => {
    const payload = install();
    await deliver(h, signers, payload).expect(200);
    const again = await deliver(h, signers, payload).expect(200);
    expect(again.body.status).toBe("duplicate");
    expect(await h.db.webhookEvent.count({ where: { id: payload.webhookId } })).toBe(1);
  });

  const refused = (res: request.Response, code: string) => {
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body.code).toBe(code);
  };

  it("refuses an unsigned delivery", async () => {
    const before = await h.db.webhookEvent.count();
    const res = await request(h.app).post("/webhooks/highlevel").send(install());
    refused(res, "invalid_signature");
    expect(await h.db.webhookEvent.count()).toBe(before);
  });

  it("refuses a delivery signed by someone else's key", async () => {
    const before = await h.db.webhookEvent.count();
    const forger = webhookSigners();
    refused(await deliver(h, forger, install()), "invalid_signature");
    refused(await deliver(h, forger, install(), { scheme: "rsa" }), "invalid_signature");
    expect(await h.db.webhookEvent.count()).toBe(before);
  });

  it("refuses a body changed after signing, even by whitespace", async () => {
    const payload = install();
    refused(await deliver(h, signers, payload, { body: JSON.stringify(payload, null, 2) }), "invalid_signature");
    const tampered = { ...payload, locationId: "someone-else" };
    refused(await deliver(h, signers, payload, { body: JSON.stringify(tampered) }), "invalid_signature");
  });

  it("refuses deliveries more than 5 minutes old or ahead, and an INSTALL without a timestamp", async () => {
    const old = install();
    old.timestamp = new Date(Date.now() - 6 * 60_000).toISOString();
    refused(await deliver(h, signers, old), "stale_webhook");
    const ahead = install();
    ahead.timestamp = new Date(Date.now() + 6 * 60_000).toISOString();
    refused(await deliver(h, signers, ahead), "stale_webhook");
    const { timestamp: _t, ...none } = install();
    refused(await deliver(h, signers, none), "stale_webhook");
    expect(
      await h.db.webhookEvent.count({ where: { id: { in: [old.webhookId, ahead.webhookId, none.webhookId] } } }),
    ).toBe(0);
  });

  it("stores deliveries arriving together once each, each with one queue entry", async () => {
    const payloads = Array.from({ length: 40 }, (_, i) =>
      event({ type: "AppointmentCreate", locationId: "loc-solo", appointment: { id: `appt-burst-${i}` } }),
    );
    // The same delivery three times within the burst, and one with half a surrogate pair (jsonb refuses those).
    const twice = payloads[7]!;
    const odd = event({
      type: "AppointmentCreate",
      locationId: "loc-solo",
      appointment: { id: "x", title: "a\ud800b" },
    });
    const all = [...payloads, twice, twice, odd];
    const answers = await Promise.all(all.map((p) => deliver(h, signers, p)));
    expect(answers.map((r) => r.status)).toEqual(all.map(() => 200));
    const statuses = answers.filter((r) => r.body.id === twice.webhookId).map((r) => r.body.status as string);
    expect(statuses.sort()).toEqual(["accepted", "duplicate", "duplicate"]);
    const ids = [...payloads, odd].map((p) => p.webhookId);
    expect(await h.db.webhookEvent.count({ where: { id: { in: ids } } })).toBe(ids.length);
    const jobs = await h.db.$queryRaw<{ id: string; n: number }[]>`
      SELECT data->>'id' AS id, count(*)::int AS n FROM pgboss.job WHERE name = 'webhook' AND data->>'id' = ANY(${ids}) GROUP BY 1`;
    expect(jobs).toHaveLength(ids.length);
    expect(jobs.every((j) => j.n === 1)).toBe(true);
    const stored = await h.db.webhookEvent.findUniqueOrThrow({ where: { id: odd.webhookId } });
    expect((stored.payload as { appointment: { title: string } }).appointment.title).toBe("a\ufffdb");
  });

  it("answers 400 for signed bytes that are not a webhook", async () => {
    const res = await request(h.app)
      .post("/webhooks/highlevel")
      .set("Content-Type", "application/json")
      .set(
        "x-ghl-signature",
        require("node:crypto").sign(null, Buffer.from("[1,2"), signers.ed25519.privateKey).toString("base64"),
      )
      .send("[1,2");
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_request");
  });
});

/** The location once it is no longer connecting (its mint job has run), or as it is after 10 s. */
async function settled(h: Harness, id: string) {
  for (let i = 0; i < 100; i++) {
    const row = await h.db.location.findUnique({ where: { id } });
    if (row && row.status !== "connecting") return row;
    await new Promise((r) => setTimeout(r, 100));
  }
  return h.db.location.findUnique({ where: { id } });
}

describe("INSTALL and UNINSTALL, worked from the queue", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ sandbox: { companies: [AGENCY, SOLO] }, env: signers.env, jobs: true });
  });
  afterEach(() => h.close());

  it("an INSTALL that arrives before the code exchange ends with the location connected", async () => {
    const payload = event({ type: "INSTALL", appId: "app", companyId: "agency-2", locationId: "loc-solo" });
    await deliver(h, signers, payload).expect(200);
    await processed(h, payload.webhookId, (outcome) => outcome?.startsWith("Will retry") ?? false);

    // The user's browser now completes the install.
    await request(h.app)
      .get("/oauth/callback")
      .query({ code: h.sandbox.state.issueCode({ locationId: "loc-solo" }) })
      .expect(200);
    const done = await processed(h, payload.webhookId, undefined, 30_000);
    expect(done).toMatchObject({ status: "processed" });
    expect(await h.db.location.findUnique({ where: { id: "loc-solo" } })).toMatchObject({ status: "active" });
  }, 40_000);

  it("an INSTALL for a new location of an installed agency connects it with the agency's token", async () => {
    await installCompany(h, "agency-1");
    h.sandbox.state.addLocation("agency-1", { id: "loc-new", name: "Bright Smiles Harbour" });
    h.sandbox.state.installs.set("loc-new", new Date());
    const payload = event({
      type: "INSTALL",
      appId: "app",
      companyId: "agency-1",
      locationId: "loc-new",
      companyName: "Bright Smiles Group",
    });
    await deliver(h, signers, payload).expect(200);
    expect(await processed(h, payload.webhookId)).toMatchObject({ status: "processed" });
    // The delivery queued the location's mint; the mint worker connects it.
    expect(await settled(h, "loc-new")).toMatchObject({ status: "active", source: "agency" });
    expect(await h.db.company.findUnique({ where: { id: "agency-1" } })).toMatchObject({
      name: "Bright Smiles Group",
    });
    await apiAs(h).post("/api/locations/loc-new/block-slots").send(SLOT).expect(201);
  });

  it("an INSTALL without companyId (installed to future sub-accounts) connects the sub-account to its agency", async () => {
    // HighLevel: "In case of app installation via future locations, you may not get" companyId.
    await installCompany(h, "agency-1");
    await h.db.company.update({ where: { id: "agency-1" }, data: { installToFutureLocations: false } });
    const arrive = (id: string, name: string) => {
      h.sandbox.state.addLocation("agency-1", { id, name });
      h.sandbox.state.installs.set(id, new Date());
    };
    // Its LocationCreate named the agency.
    arrive("loc-future-1", "Bright Smiles Quay");
    const created = event({
      type: "LocationCreate",
      id: "loc-future-1",
      companyId: "agency-1",
      name: "Bright Smiles Quay",
    });
    await deliver(h, signers, created).expect(200);
    await processed(h, created.webhookId);
    const first = event({ type: "INSTALL", appId: "app", locationId: "loc-future-1" });
    await deliver(h, signers, first).expect(200);
    expect(await processed(h, first.webhookId)).toMatchObject({ status: "processed" });
    expect(await settled(h, "loc-future-1")).toMatchObject({ status: "active", companyId: "agency-1" });

    // No LocationCreate: the one connected agency that installs to future sub-accounts.
    await h.db.company.update({ where: { id: "agency-1" }, data: { installToFutureLocations: true } });
    arrive("loc-future-2", "Bright Smiles Pier");
    const second = event({ type: "INSTALL", appId: "app", locationId: "loc-future-2" });
    await deliver(h, signers, second).expect(200);
    expect(await processed(h, second.webhookId)).toMatchObject({ status: "processed" });
    expect(await settled(h, "loc-future-2")).toMatchObject({ status: "active", companyId: "agency-1" });
    await apiAs(h).post("/api/locations/loc-future-2/block-slots").send(SLOT).expect(201);
  });

  it("an agency-level INSTALL with no code exchange of its own lists the agency's locations and connects the new ones", async () => {
    await installCompany(h, "agency-1");
    // That install was long ago: this INSTALL has no browser coming back with a code.
    await h.db.install.updateMany({ data: { startedAt: new Date(Date.now() - 3600_000) } });
    h.sandbox.state.addLocation("agency-1", { id: "loc-later", name: "Bright Smiles Later" });
    h.sandbox.state.installs.set("loc-later", new Date());
    const mintsBefore = h.sandbox.state.mintCount();
    const payload = event({ type: "INSTALL", appId: "app", companyId: "agency-1", installType: "Company" });
    await deliver(h, signers, payload).expect(200);
    const done = await processed(h, payload.webhookId);
    expect(done.status).toBe("processed");
    expect(done.outcome).toContain("installed locations to connect the new ones");
    expect(await settled(h, "loc-later")).toMatchObject({ status: "active" });
    // Only the new one was minted: loc-a and loc-b kept their tokens.
    expect(h.sandbox.state.mintCount() - mintsBefore).toBe(1);
  });

  it("UNINSTALL of a location deletes its tokens; later calls answer 404 location_not_installed", async () => {
    await installCompany(h, "agency-1");
    const payload = event({ type: "UNINSTALL", appId: "app", companyId: "agency-1", locationId: "loc-a" });
    await deliver(h, signers, payload, { scheme: "rsa" }).expect(200);
    expect(await processed(h, payload.webhookId)).toMatchObject({ status: "processed" });
    const row = await h.db.location.findUniqueOrThrow({ where: { id: "loc-a" } });
    expect(row).toMatchObject({ status: "uninstalled", accessTokenEnc: null, refreshTokenEnc: null });
    const res = await apiAs(h).post("/api/locations/loc-a/block-slots").send(SLOT).expect(404);
    expect(res.body.code).toBe("location_not_installed");
    // The agency's other location is untouched.
    await apiAs(h).post("/api/locations/loc-b/block-slots").send(SLOT).expect(201);
  });

  it("UNINSTALL of an agency removes it and all its locations, and cancels their queued work", async () => {
    await installCompany(h, "agency-1");
    await h.services.stopJobs(); // hold the queue: the bulk item stays pending
    const { body: job } = await apiAs(h)
      .post("/api/block-slots/bulk")
      .send({ items: [{ locationId: "loc-b", ...SLOT }] })
      .expect(202);
    const payload = event({ type: "UNINSTALL", appId: "app", companyId: "agency-1" });
    await deliver(h, signers, payload).expect(200);
    await h.services.webhooks.process(payload.webhookId); // what the queue's worker runs
    expect(await processed(h, payload.webhookId)).toMatchObject({ status: "processed" });
    expect(await h.db.company.findUniqueOrThrow({ where: { id: "agency-1" } })).toMatchObject({
      status: "uninstalled",
      refreshTokenEnc: null,
    });
    const locations = await h.db.location.findMany({ where: { companyId: "agency-1" } });
    expect(locations.map((l) => l.status)).toEqual(["uninstalled", "uninstalled", "uninstalled"]);
    const view = await apiAs(h).get(`/api/block-slots/bulk/${job.id}`).expect(200);
    expect(view.body.counts).toMatchObject({ cancelled: 1, pending: 0 });
    expect(h.sandbox.state.blockSlots("loc-b")).toEqual([]);
  });

  it("a duplicate UNINSTALL delivery has one effect and a later reinstall is not undone", async () => {
    await installCompany(h, "agency-1");
    const payload = event({ type: "UNINSTALL", appId: "app", companyId: "agency-1", locationId: "loc-a" });
    await deliver(h, signers, payload).expect(200);
    await processed(h, payload.webhookId);
    await installCompany(h, "agency-1");
    await deliver(h, signers, payload).expect(200);
    expect(await h.db.location.findUniqueOrThrow({ where: { id: "loc-a" } })).toMatchObject({ status: "active" });
  });
});

describe("event types no handler owns", () => {
  it("are stored ignored, even when named like Object's own properties, and their batch goes on", async () => {
    const h = await startHarness({ sandbox: { companies: [SOLO] }, env: signers.env });
    try {
      const odd = ["constructor", "toString", "__proto__", "hasOwnProperty"].map((type) => ({
        type,
        ...event({ type, locationId: "loc-solo", companyId: "agency-2" }),
      }));
      const uninstall = event({ type: "UNINSTALL", appId: "app", companyId: "agency-2", locationId: "loc-solo" });
      for (const payload of [...odd, uninstall]) await deliver(h, signers, payload).expect(200);
      // Worked only now, so all five are fetched as one batch.
      await h.services.startJobs();
      for (const payload of odd) {
        expect(await processed(h, payload.webhookId)).toMatchObject({
          status: "ignored",
          outcome: `No handler for ${payload.type} events.`,
        });
      }
      expect(await processed(h, uninstall.webhookId)).toMatchObject({ status: "processed" });
    } finally {
      await h.close();
    }
  });
});
