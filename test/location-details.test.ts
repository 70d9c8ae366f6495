import request from "supertest";
import { DEFAULT_SCOPES } from "../sandbox/fixtures";
import { installLocation } from "./support/api";
import { startHarness, type Harness } from "./support/harness";
import { SOLO } from "./support/sandbox-fixtures";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [SOLO] } });
  await installLocation(h, "loc-solo");
});
afterAll(async () => {
  const invalid = h.sandbox.state.invalidRequests();
  await h.close();
  expect(invalid).toEqual([]);
});

describe("a location's name and time zone", () => {
  it("are read from HighLevel's location record and stored", async () => {
    h.sandbox.state.updateLocation("loc-solo", { name: "Solo Clinic – Leeds", timezone: "Europe/London" });
    await h.services.locations.refresh("loc-solo");
    expect(await h.db.location.findUnique({ where: { id: "loc-solo" } })).toMatchObject({
      name: "Solo Clinic – Leeds",
      timeZone: "Europe/London",
      detailsAt: expect.any(Date),
    });
  });

  it("are asked of HighLevel once, then read from the database", async () => {
    h.sandbox.state.updateLocation("loc-solo", { timezone: "America/Denver" });
    await h.services.locations.refresh("loc-solo");
    h.sandbox.state.resetRequests();
    expect(await h.services.locations.timeZoneOf("loc-solo")).toBe("America/Denver");
    expect(h.sandbox.state.requests).toEqual([]);
  });
});

describe("an install made before the app asked to read locations", () => {
  it("is told to reinstall, and its token is not renewed for nothing on every read", async () => {
    const own = await startHarness({ sandbox: { companies: [SOLO] } });
    try {
      const scopes = DEFAULT_SCOPES.filter((s) => s !== "locations.readonly");
      await request(own.app)
        .get("/oauth/callback")
        .query({ code: own.sandbox.state.issueCode({ locationId: "loc-solo" }, { scopes }) })
        .expect(200);
      own.sandbox.state.resetRequests();
      for (let i = 0; i < 2; i++) {
        await expect(own.services.locations.refresh("loc-solo")).rejects.toMatchObject({
          code: "reauthorization_required",
        });
      }
      expect(own.sandbox.state.count("POST", "/oauth/token")).toBe(0);
      expect(await own.db.location.findUniqueOrThrow({ where: { id: "loc-solo" } })).toMatchObject({
        status: "active",
      });
    } finally {
      await own.close();
    }
  });
});
