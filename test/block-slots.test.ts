import { apiAs, installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { SOLO } from "./support/sandbox-fixtures";

const SLOT = {
  calendarId: "cal-1",
  title: "Team training",
  startTime: "2030-05-01T12:00:00+02:00",
  endTime: "2030-05-01T13:00:00+02:00",
};

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ sandbox: { companies: [SOLO] } });
  await installLocation(h, "loc-solo");
  h.sandbox.state.resetRequests();
});
afterEach(async () => {
  // Every request the app sent must have matched HighLevel's official OpenAPI files.
  const invalid = h.sandbox.state.invalidRequests();
  await h.close();
  expect(invalid).toEqual([]);
});

const api = () => apiAs(h);
const SLOTS = "/api/locations/loc-solo/block-slots";

describe("block slots for one location", () => {
  it("creates, lists, edits and deletes a block slot in HighLevel", async () => {
    const created = await api().post(SLOTS).send(SLOT).expect(201);
    expect(created.body).toMatchObject({ id: expect.any(String), locationId: "loc-solo", ...SLOT });
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);

    const listed = await api()
      .get(SLOTS)
      .query({ calendarId: "cal-1", startTime: "2030-05-01T00:00:00Z", endTime: "2030-05-02T00:00:00Z" })
      .expect(200);
    expect(listed.body.blockSlots).toEqual([expect.objectContaining({ id: created.body.id })]);
    const list = h.sandbox.state.requests.find((r) => r.path === "/calendars/blocked-slots");
    expect(list!.query).toMatchObject({ startTime: String(Date.parse("2030-05-01T00:00:00Z")) });

    const edited = await api()
      .put(`${SLOTS}/${created.body.id}`)
      .send({ ...SLOT, title: "Moved", startTime: "2030-05-01T14:00:00+02:00", endTime: "2030-05-01T15:00:00+02:00" })
      .expect(200);
    expect(edited.body).toMatchObject({ id: created.body.id, title: "Moved" });

    await api().delete(`${SLOTS}/${created.body.id}`).expect(204);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(0);
    expect(h.sandbox.state.invalidRequests()).toEqual([]);
  });

  it("blocks a user's time with assignedUserId", async () => {
    const { calendarId: _c, ...rest } = SLOT;
    const created = await api()
      .post(SLOTS)
      .send({ ...rest, assignedUserId: "user-7" })
      .expect(201);
    expect(created.body).toMatchObject({ assignedUserId: "user-7" });
  });

  it.each([
    ["both calendarId and assignedUserId", { ...SLOT, assignedUserId: "u1" }, ["calendarId", "assignedUserId"]],
    ["neither calendarId nor assignedUserId", { ...SLOT, calendarId: undefined }, ["calendarId", "assignedUserId"]],
    ["a time without an offset", { ...SLOT, startTime: "2030-05-01T12:00:00" }, ["startTime"]],
    ["a time that is not a date", { ...SLOT, endTime: "tomorrow" }, ["endTime"]],
    ["end before start", { ...SLOT, endTime: "2030-05-01T11:00:00+02:00" }, ["endTime"]],
    ["end equal to start", { ...SLOT, endTime: SLOT.startTime }, ["endTime"]],
    ["an overlong title", { ...SLOT, title: "x".repeat(201) }, ["title"]],
    ["a title that is not text", { ...SLOT, title: 42 }, ["title"]],
    ["an unknown field", { ...SLOT, color: "red" }, ["body"]],
    ["a missing startTime", { ...SLOT, startTime: undefined }, ["startTime"]],
    ["a NUL character in the title", { ...SLOT, title: "Team\u0000training" }, ["title"]],
    ["a calendarId that is not a HighLevel id", { ...SLOT, calendarId: "../../etc/passwd" }, ["calendarId"]],
    [
      "an assignedUserId with SQL in it",
      { ...SLOT, calendarId: undefined, assignedUserId: "1' OR '1'='1" },
      ["assignedUserId"],
    ],
  ])("rejects %s with 400 naming the field, without calling HighLevel", async (_name, body, fields) => {
    const res = await api().post(SLOTS).send(body).expect(400);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.body.code).toBe("invalid_request");
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([...fields].sort());
    expect(h.sandbox.state.requests).toEqual([]);
  });

  it("rejects a body that claims gzip but is not, with 400 problem+json", async () => {
    const res = await api()
      .post(SLOTS)
      .set("Content-Type", "application/json")
      .set("Content-Encoding", "gzip")
      .send(JSON.stringify(SLOT))
      .expect(400);
    expect(res.body.code).toBe("invalid_request");
    expect(h.sandbox.state.requests).toEqual([]);
  });

  it("rejects malformed JSON with 400 problem+json", async () => {
    const res = await api().post(SLOTS).set("Content-Type", "application/json").send("{not json").expect(400);
    expect(res.body).toMatchObject({ code: "invalid_request" });
  });

  it("rejects a list query without a window", async () => {
    const res = await api().get(SLOTS).query({ calendarId: "cal-1" }).expect(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(["endTime", "startTime"]);
  });

  it("answers 404 location_not_installed for a location that never installed", async () => {
    const res = await api().post("/api/locations/elsewhere/block-slots").send(SLOT).expect(404);
    expect(res.body.code).toBe("location_not_installed");
    expect(h.sandbox.state.requests).toEqual([]);
  });

  it("answers 409 with the reinstall link when HighLevel no longer accepts the refresh token", async () => {
    await h.db.location.update({ where: { id: "loc-solo" }, data: { tokenExpiresAt: new Date(0) } });
    h.sandbox.state.revokeRefreshTokensFor("loc-solo");
    const res = await api().post(SLOTS).send(SLOT).expect(409);
    expect(res.body.code).toBe("reauthorization_required");
    expect(res.body.detail).toContain("reinstall");
  });

  it.each([
    ["HighLevel's own words", { statusCode: 400, message: "Invalid grant: refresh token is invalid" }],
    ["the RFC 6749 error code", { error: "invalid_grant", error_description: "The refresh token has expired" }],
  ])("a refresh refused in %s marks the location for reinstall and answers 409", async (_shape, body) => {
    await h.db.location.update({ where: { id: "loc-solo" }, data: { tokenExpiresAt: new Date(0) } });
    h.sandbox.state.failNext({ method: "POST", path: "/oauth/token" }, { status: 400, body });
    const res = await api().post(SLOTS).send(SLOT).expect(409);
    expect(res.body.code).toBe("reauthorization_required");
    expect(await h.db.location.findUniqueOrThrow({ where: { id: "loc-solo" } })).toMatchObject({
      status: "reauthorization_required",
    });
    expect(h.sandbox.state.blockSlots("loc-solo")).toEqual([]);
  });

  it("passes HighLevel's 422 through as invalid_request with HighLevel's message", async () => {
    h.sandbox.state.failNext(
      { method: "POST", path: "/calendars/events/block-slots" },
      {
        status: 422,
        body: { statusCode: 422, message: ["calendar is closed on that day"], error: "Unprocessable Entity" },
      },
    );
    const res = await api().post(SLOTS).send(SLOT).expect(422);
    expect(res.body).toMatchObject({ code: "invalid_request", detail: "calendar is closed on that day" });
  });

  it("waits out a short 429 and succeeds", async () => {
    h.sandbox.state.failNext(
      { method: "POST", path: "/calendars/events/block-slots" },
      { status: 429, body: { statusCode: 429, message: "Too many requests" }, headers: { "Retry-After": "1" } },
    );
    await api().post(SLOTS).send(SLOT).expect(201);
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(1);
  });

  it("answers 429 with Retry-After when HighLevel asks for a wait longer than 10 s", async () => {
    h.sandbox.state.failNext(
      { method: "POST", path: "/calendars/events/block-slots" },
      { status: 429, body: { statusCode: 429, message: "Too many requests" }, headers: { "Retry-After": "11" } },
    );
    const res = await api().post(SLOTS).send(SLOT).expect(429);
    expect(res.body.code).toBe("rate_limited");
    expect(res.headers["retry-after"]).toBe("11");
    expect(h.sandbox.state.blockSlots("loc-solo")).toHaveLength(0);
  });

  it("retries a list after a HighLevel 5xx", async () => {
    h.sandbox.state.failNext(
      { method: "GET", path: "/calendars/blocked-slots" },
      { status: 503, body: { message: "down" } },
    );
    await api()
      .get(SLOTS)
      .query({ calendarId: "cal-1", startTime: "2030-05-01T00:00:00Z", endTime: "2030-05-02T00:00:00Z" })
      .expect(200);
    expect(h.sandbox.state.count("GET", "/calendars/blocked-slots")).toBe(2);
  });

  it("retries an edit and a delete after a HighLevel 5xx: both are safe to send again", async () => {
    const created = await api().post(SLOTS).send(SLOT).expect(201);
    const down = { status: 503, body: { message: "down" } };
    h.sandbox.state.failNext({ method: "PUT", path: "/calendars/events/block-slots" }, down);
    await api()
      .put(`${SLOTS}/${created.body.id}`)
      .send({ ...SLOT, title: "Moved" })
      .expect(200);
    h.sandbox.state.failNext({ method: "DELETE", path: "/calendars/events" }, down);
    await api().delete(`${SLOTS}/${created.body.id}`).expect(204);
    expect(h.sandbox.state.blockSlots("loc-solo")).toEqual([]);
  });

  it("answers 404 for an event HighLevel does not know", async () => {
    const res = await api().delete(`${SLOTS}/no-such-event`).expect(404);
    expect(res.body.code).toBe("not_found");
  });
});
