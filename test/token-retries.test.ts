/**
 * How a renewal recovers, seen from a caller of the API: a rejected token is never sent again, a
 * lost refresh answer is retried at once, and a failing HighLevel is tried exactly three times.
 */
import { apiAs, installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { expireStoredToken } from "./support/tokens";

const DIRECT = { id: "agency-2", name: "Solo", locations: [{ id: "solo", name: "Solo Clinic" }] };
const TOKEN = { method: "POST", path: "/oauth/token" };
const LIST = "/calendars/blocked-slots";

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ sandbox: { companies: [DIRECT] } });
  await installLocation(h, "solo");
});
afterEach(() => h.close());

const list = () =>
  apiAs(h)
    .get("/api/locations/solo/block-slots")
    .query({ calendarId: "cal-1", startTime: "2030-05-01T00:00:00Z", endTime: "2030-05-02T00:00:00Z" });
const listed = () => h.sandbox.state.requests.filter((r) => r.path === LIST);
const tokenRequests = () => h.sandbox.state.count("POST", TOKEN.path);

/** The stored token is past its expiry, and HighLevel agrees: the next call must renew it. */
async function expireToken() {
  await expireStoredToken(h, "solo");
  h.sandbox.state.resetRequests();
}

it("after a 401 and a renewal, later calls send the new token, never the rejected one", async () => {
  await list().expect(200); // the token is read, and kept for a while
  h.sandbox.state.expireAccessTokensFor("solo"); // HighLevel drops it early
  h.sandbox.state.resetRequests();

  await list().expect(200);
  const [rejected, retried] = listed();
  expect(rejected?.status).toBe(401);
  expect(retried?.status).toBe(200);
  expect(retried!.headers.authorization).not.toBe(rejected!.headers.authorization);

  await list().expect(200);
  await list().expect(200);
  const later = listed().slice(2);
  expect(later.map((r) => r.status)).toEqual([200, 200]);
  for (const r of later) expect(r.headers.authorization).toBe(retried!.headers.authorization);
  expect(h.sandbox.state.refreshCount("solo")).toBe(1);
  expect(h.logs.withMessage("HighLevel rejected an access token; renewing once")).toEqual([
    expect.objectContaining({ locationId: "solo" }),
  ]);
});

it("a refresh answer lost on every try is sent again at once each time, within the same call", async () => {
  await expireToken();
  // Each of the first three token requests is cut before HighLevel acts on it. Every lost answer
  // is retried straight away with the same refresh token, so the second attempt gets through.
  h.sandbox.state.failNext(TOKEN, { drop: "before" }, 3);
  await list().expect(200);
  expect(tokenRequests()).toBe(4);
  expect(h.sandbox.state.refreshCount("solo")).toBe(1);
  // What an operator reads: the answer was lost, and the same refresh token is tried again.
  expect(h.logs.withMessage("refresh answer lost; trying the same refresh token once more")).toEqual(
    Array(2).fill(expect.objectContaining({ level: 40, userType: "Location" })),
  );
});

it("a refresh failing twice with 5xx succeeds on the third try", async () => {
  await expireToken();
  h.sandbox.state.failNext(TOKEN, { status: 502, body: { message: "Bad gateway" } }, 2);
  await list().expect(200);
  expect(tokenRequests()).toBe(3);
});

it("a refresh failing three times with 5xx gives up after exactly three tries, the stored token kept", async () => {
  await expireToken();
  const before = await h.db.location.findUniqueOrThrow({ where: { id: "solo" } });
  h.sandbox.state.failNext(TOKEN, { status: 503, body: { message: "Unavailable" } }, 4);
  const res = await list().expect(502);
  expect(res.body.code).toBe("upstream_error");
  expect(tokenRequests()).toBe(3);
  const after = await h.db.location.findUniqueOrThrow({ where: { id: "solo" } });
  expect(after.refreshTokenEnc).toBe(before.refreshTokenEnc);
});

it("renews again when the renewed token is dropped early too", async () => {
  for (let round = 1; round <= 2; round++) {
    h.sandbox.state.expireAccessTokensFor("solo");
    await list().expect(200);
    expect(h.sandbox.state.refreshCount("solo")).toBe(round);
  }
});

it("does not reuse a token it read past the point where it must be renewed", async () => {
  const margin = 5 * 60_000; // renewed when closer than this to expiry
  await h.db.location.update({ where: { id: "solo" }, data: { tokenExpiresAt: new Date(Date.now() + margin + 1500) } });
  await list().expect(200);
  expect(h.sandbox.state.refreshCount("solo")).toBe(0);
  await new Promise((r) => setTimeout(r, 2000));
  await list().expect(200);
  expect(h.sandbox.state.refreshCount("solo")).toBe(1);
});

it("leaves an inactive location alone for a while: the next call answers 503 without asking HighLevel", async () => {
  await expireToken();
  h.sandbox.state.setLocationInactive("solo", true);
  expect((await list().expect(503)).body.code).toBe("location_inactive");
  h.sandbox.state.resetRequests();
  expect((await list().expect(503)).body.code).toBe("location_inactive");
  expect(h.sandbox.state.requests).toEqual([]);
});

it("answers 404 for an uninstalled location without asking HighLevel", async () => {
  await h.db.location.update({ where: { id: "solo" }, data: { status: "uninstalled" } });
  h.sandbox.state.resetRequests();
  expect((await list().expect(404)).body.code).toBe("location_not_installed");
  expect(h.sandbox.state.requests).toEqual([]);
});
