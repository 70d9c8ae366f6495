import request from "supertest";
import { encryptSsoPayload } from "../sandbox/sso-payload";
import { apiAs, installCompany } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { AGENCY } from "./support/sandbox-fixtures";

/**
 * HighLevel's DELETE /calendars/events/{id} deletes any event, a customer's appointment included.
 * The block-slot routes act on block slots only, and say nothing about other tenants' events.
 */
const SSO_KEY = "shared-secret-of-the-test-app";
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [AGENCY] }, env: { HIGHLEVEL_SSO_KEY: SSO_KEY } });
  await installCompany(h, "agency-1");
});
afterAll(() => h.close());

const SLOTS = "/api/locations/loc-a/block-slots";
const BLOCK = {
  calendarId: "cal-1",
  title: "Lunch",
  startTime: "2031-03-04T12:00:00Z",
  endTime: "2031-03-04T13:00:00Z",
};

function appointment(locationId = "loc-a") {
  return h.sandbox.state.addAppointment({
    locationId,
    calendarId: "cal-1",
    title: "Cleaning with Ms. Jones",
    startTime: "2031-03-05T09:00:00Z",
    endTime: "2031-03-05T10:00:00Z",
  });
}

/** Requests the app sent to HighLevel that change an event. */
const changes = () => h.sandbox.state.requests.filter((r) => r.method === "DELETE" || r.method === "PUT");

beforeEach(() => h.sandbox.state.resetRequests());

describe("a customer's appointment", () => {
  it("is not deleted: 409 not_a_block_slot, and no delete is sent", async () => {
    const appt = appointment();
    const res = await apiAs(h).delete(`${SLOTS}/${appt.id}`).expect(409);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body.code).toBe("not_a_block_slot");
    expect(res.body.detail).toBe(
      `Event ${appt.id} is an appointment, not a block slot. Block-slot routes never edit or delete appointments.`,
    );
    expect(changes()).toEqual([]);
    expect(h.sandbox.state.appointments.get(appt.id)).toBeDefined();
  });

  it("is not deleted when HighLevel's record of it has neither contact nor status (one synced from elsewhere)", async () => {
    const synced = appointment();
    const record = h.sandbox.state.appointments.get(synced.id)! as unknown as Record<string, unknown>;
    delete record.contactId;
    delete record.appointmentStatus;
    const res = await apiAs(h).delete(`${SLOTS}/${synced.id}`).expect(409);
    expect(res.body.code).toBe("not_a_block_slot");
    expect(h.sandbox.state.appointments.get(synced.id)).toBeDefined();
    expect(changes()).toEqual([]);
  });

  it("is not edited through the block-slot route either", async () => {
    const appt = appointment();
    const res = await apiAs(h).put(`${SLOTS}/${appt.id}`).send(BLOCK).expect(409);
    expect(res.body.code).toBe("not_a_block_slot");
    expect(changes()).toEqual([]);
    expect(h.sandbox.state.appointments.get(appt.id)).toMatchObject({ title: "Cleaning with Ms. Jones" });
  });

  it("is not deleted from the custom page", async () => {
    const appt = appointment();
    const session = await request(h.app)
      .post("/app/session")
      .send({
        payload: encryptSsoPayload(
          { userId: "u-1", companyId: "agency-1", role: "user", type: "account", activeLocation: "loc-a" },
          SSO_KEY,
        ),
      })
      .expect(200);
    const cookie = (session.headers["set-cookie"] as unknown as string[])[0]!.split(";")[0]!;
    const res = await request(h.app)
      .delete(`/app/api/block-slots/${appt.id}`)
      .set("Cookie", cookie)
      .set("X-CSRF-Token", session.body.csrf as string)
      .expect(409);
    expect(res.body.code).toBe("not_a_block_slot");
    expect(h.sandbox.state.appointments.get(appt.id)).toBeDefined();
  });
});

describe("block slots", () => {
  it("made by the app are edited and deleted without asking HighLevel what they are", async () => {
    const made = await apiAs(h).post(SLOTS).send(BLOCK).expect(201);
    h.sandbox.state.resetRequests();
    await apiAs(h)
      .put(`${SLOTS}/${made.body.id}`)
      .send({ ...BLOCK, title: "Long lunch" })
      .expect(200);
    await apiAs(h).delete(`${SLOTS}/${made.body.id}`).expect(204);
    expect(h.sandbox.state.requests.map((r) => `${r.method} ${r.operationId}`)).toEqual([
      "PUT edit-block-slot",
      "DELETE delete-event",
    ]);
    expect(await h.db.block.findUnique({ where: { blockSlotId: made.body.id } })).toMatchObject({
      title: "Long lunch",
      deletedAt: expect.any(Date),
    });
  });

  it("made elsewhere (in HighLevel itself) are deleted after HighLevel says they are blocks", async () => {
    const now = new Date().toISOString();
    h.sandbox.state.slots.set("made-by-hand", {
      id: "made-by-hand",
      locationId: "loc-a",
      title: "Made in HighLevel",
      calendarId: "cal-1",
      startTime: "2031-03-06T12:00:00Z",
      endTime: "2031-03-06T13:00:00Z",
      dateAdded: now,
      dateUpdated: now,
    });
    await apiAs(h).delete(`${SLOTS}/made-by-hand`).expect(204);
    expect(h.sandbox.state.slots.has("made-by-hand")).toBe(false);
  });
});

describe("events that are not there for this caller", () => {
  it("answers one 404 not_found for an unknown event and another location's event, without HighLevel's words", async () => {
    const foreign = appointment("loc-b");
    const unknown = await apiAs(h).delete(`${SLOTS}/no-such-event`).expect(404);
    const elsewhere = await apiAs(h).delete(`${SLOTS}/${foreign.id}`).expect(404);
    for (const res of [unknown, elsewhere]) expect(res.body.code).toBe("not_found");
    expect(elsewhere.body.detail).toBe(`There is no block slot ${foreign.id} in location loc-a.`);
    expect(h.sandbox.state.appointments.get(foreign.id)).toBeDefined();
    expect(changes()).toEqual([]);
    // Final answers, not failures: no retry, and nothing logged as an error.
    expect(h.sandbox.state.requests.filter((r) => r.operationId === "get-appointment")).toHaveLength(2);
    expect(h.logs.text).not.toMatch(/"level":50/);
  });

  it("a delete naming another location's block leaves that block, and its record, as they are", async () => {
    const theirs = await apiAs(h).post("/api/locations/loc-b/block-slots").send(BLOCK).expect(201);
    await apiAs(h).delete(`${SLOTS}/${theirs.body.id}`).expect(404);
    expect(h.sandbox.state.blockSlots("loc-b").map((b) => b.id)).toContain(theirs.body.id);
    // Still known as loc-b's: a second submission of the same block finds it instead of making a copy.
    expect(await h.db.block.findUnique({ where: { blockSlotId: theirs.body.id } })).toMatchObject({ deletedAt: null });
    const again = await apiAs(h)
      .post("/api/locations/loc-b/block-slots")
      .query({ ifExists: "skip" })
      .send(BLOCK)
      .expect(200);
    expect(again.body.id).toBe(theirs.body.id);
  });
});
