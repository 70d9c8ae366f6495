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
