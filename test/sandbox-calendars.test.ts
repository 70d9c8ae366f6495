/** The sandbox's calendar API: block slots, rejections of bad requests, rate limits, faults. */
import request from "supertest";
import {
  CAL,
  AGENCY,
  SOLO,
  SLOT,
  tokenRequest,
  locationToken,
  createSlot,
  sandboxesFor,
} from "./support/sandbox-fixtures";
import type { Sandbox } from "../sandbox";

let sb: Sandbox;
const sandbox = sandboxesFor([AGENCY, SOLO]);
beforeEach(async () => {
  sb = await sandbox();
});

describe("block slots", () => {
  it("create, list, edit and delete", async () => {
    const token = await locationToken(sb, "loc-a");
    const created = await createSlot(sb, token, SLOT).expect(201);
    expect(created.body).toMatchObject({ id: expect.any(String), ...SLOT });
    const id = created.body.id as string;
    await createSlot(sb, token, {
      locationId: "loc-a",
      assignedUserId: "user-1",
      startTime: "2030-05-02T09:00:00Z",
      endTime: "2030-05-02T10:00:00Z",
    }).expect(201);

    const list = (query: Record<string, unknown>) =>
      request(sb.url)
        .get("/calendars/blocked-slots")
        .query({ locationId: "loc-a", ...query })
        .set("Authorization", `Bearer ${token}`)
        .set("Version", CAL)
        .expect(200);
    const window = { startTime: Date.parse("2030-05-01T00:00:00Z"), endTime: Date.parse("2030-05-03T00:00:00Z") };
    expect((await list({ calendarId: "cal-1", ...window })).body.events.map((e: { id: string }) => e.id)).toEqual([id]);
    expect((await list({ userId: "user-1", ...window })).body.events).toHaveLength(1);
    expect(
      (await list({ calendarId: "cal-1", startTime: window.endTime, endTime: window.endTime + 1000 })).body.events,
    ).toEqual([]);

    const edited = await request(sb.url)
      .put(`/calendars/events/block-slots/${id}`)
      .set("Authorization", `Bearer ${token}`)
      .set("Version", CAL)
      .send({ ...SLOT, title: "Long lunch", endTime: "2030-05-01T14:00:00+02:00" })
      .expect(201);
    expect(edited.body).toMatchObject({ id, title: "Long lunch", endTime: "2030-05-01T14:00:00+02:00" });

    // The official file requires a JSON body (an empty object) on this DELETE.
    await request(sb.url)
      .delete(`/calendars/events/${id}`)
      .set("Authorization", `Bearer ${token}`)
      .set("Version", CAL)
      .expect(422);
    expect(sb.state.invalidRequests()).toHaveLength(1);
    sb.state.resetRequests();
    const deleted = await request(sb.url)
      .delete(`/calendars/events/${id}`)
      .set("Authorization", `Bearer ${token}`)
      .set("Version", CAL)
      .send({})
      .expect(201);
    expect(deleted.body).toEqual({ succeeded: true });
    expect(sb.state.blockSlots("loc-a").map((s) => s.id)).not.toContain(id);
    await request(sb.url)
      .delete(`/calendars/events/${id}`)
      .set("Authorization", `Bearer ${token}`)
      .set("Version", CAL)
      .send({})
      .expect(404);
    expect(sb.state.invalidRequests()).toEqual([]);
  });

  it("with strictOpenApi, block slots require calendarId exactly as calendars.json says", async () => {
    const s = await sandbox({ strictOpenApi: true });
    const token = await locationToken(s, "loc-a");
    const body = { locationId: "loc-a", assignedUserId: "u", startTime: SLOT.startTime, endTime: SLOT.endTime };
    const res = await createSlot(s, token, body).expect(422);
    expect(res.body.message).toContain("body.calendarId is required");
  });
});

describe("rejections are answered like HighLevel and recorded as invalid", () => {
  let token: string;
  beforeEach(async () => {
    token = await locationToken(sb, "loc-a");
    sb.state.resetRequests();
  });

  function expectOneInvalid(pattern: RegExp) {
    const invalid = sb.state.invalidRequests();
    expect(invalid).toHaveLength(1);
    expect(invalid[0]!.errors.join("; ")).toMatch(pattern);
  }

  it("missing Version header", async () => {
    const res = await request(sb.url)
      .post("/calendars/events/block-slots")
      .set("Authorization", `Bearer ${token}`)
      .send(SLOT)
      .expect(400);
    expect(res.body.statusCode).toBe(400);
    expectOneInvalid(/Version/);
  });

  it("JSON body to /oauth/token", async () => {
    const res = await request(sb.url)
      .post("/oauth/token")
      .send({
        client_id: sb.state.clientId,
        client_secret: sb.state.clientSecret,
        grant_type: "authorization_code",
        code: "x",
      })
      .expect(422);
    expect(res.body).toMatchObject({ statusCode: 422, error: "Unprocessable Entity" });
    expectOneInvalid(/application\/x-www-form-urlencoded/);
  });

  it("both calendarId and assignedUserId", async () => {
    const res = await createSlot(sb, token, { ...SLOT, assignedUserId: "u" }).expect(422);
    expect(res.body.message).toEqual(["exactly one of calendarId or assignedUserId must be set, not both"]);
    expectOneInvalid(/exactly one/);
  });

  it("unknown or missing access token", async () => {
    const res = await createSlot(sb, "not-a-token", SLOT).expect(401);
    expect(res.body).toEqual({
      statusCode: 401,
      message: "Invalid token: access token is invalid",
      error: "Unauthorized",
    });
    await request(sb.url).post("/calendars/events/block-slots").set("Version", CAL).send(SLOT).expect(401);
    expect(sb.state.invalidRequests()).toHaveLength(2);
  });

  it("time without an offset", async () => {
    await createSlot(sb, token, { ...SLOT, startTime: "2030-05-01T12:00:00" }).expect(422);
    expectOneInvalid(/startTime must be an ISO-8601 date-time with an offset/);
  });

  it("a body for another location than the token's", async () => {
    await createSlot(sb, token, { ...SLOT, locationId: "loc-b" }).expect(403);
    expectOneInvalid(/not the token's location/);
  });

  it("an enum or type the OpenAPI file rejects, and a route it does not have", async () => {
    await tokenRequest(sb, { grant_type: "password" }).expect(422);
    await request(sb.url).get("/calendars/nope/nope/nope").set("Version", CAL).expect(404);
    expect(sb.state.invalidRequests().map((r) => r.errors[0])).toEqual([
      expect.stringMatching(/grant_type must be one of/),
      expect.stringMatching(/no operation/),
    ]);
  });

  it("an expired token answers 401 but is not the app's fault when HighLevel expired it early", async () => {
    sb.state.expireAccessToken(token);
    await createSlot(sb, token, SLOT).expect(401);
    expect(sb.state.invalidRequests()).toEqual([]);
    expect(sb.state.requests[0]!.note).toMatch(/expired/);
  });
});

describe("rate limits and faults", () => {
  it("answers 429 with Retry-After beyond the burst", async () => {
    const s = await sandbox({ rateLimit: { burst: 2 } });
    const token = await locationToken(s, "loc-a");
    await createSlot(s, token, SLOT).expect(201);
    await createSlot(s, token, SLOT).expect(201);
    const limited = await createSlot(s, token, SLOT).expect(429);
    expect(limited.body).toEqual({ statusCode: 429, message: "Too many requests" });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.headers["x-ratelimit-remaining"]).toBe("0");
    expect(s.state.blockSlots()).toHaveLength(2);
  });

  it("failNext: an injected reply, then normal service", async () => {
    const token = await locationToken(sb, "loc-a");
    sb.state.failNext(
      { method: "POST", path: "/calendars/events/block-slots" },
      { status: 503, body: { message: "down" }, headers: { "Retry-After": "1" } },
    );
    const res = await createSlot(sb, token, SLOT).expect(503);
    expect(res.headers["retry-after"]).toBe("1");
    await createSlot(sb, token, SLOT).expect(201);
  });

  it("failNext drop 'after' does the work, drop 'before' does not", async () => {
    const token = await locationToken(sb, "loc-a");
    sb.state.failNext({ path: /block-slots$/ }, { drop: "after" });
    await expect(createSlot(sb, token, SLOT)).rejects.toThrow();
    expect(sb.state.blockSlots()).toHaveLength(1);
    sb.state.failNext({ path: "/calendars/events/block-slots" }, { drop: "before" });
    await expect(createSlot(sb, token, SLOT)).rejects.toThrow();
    expect(sb.state.blockSlots()).toHaveLength(1);
  });
});
