/** The sandbox's locations API (get-location) and the controls that rename a sub-account or move its zone. */
import request from "supertest";
import { IANAZone } from "luxon";
import {
  AGENCY,
  CAL,
  OAUTH,
  SOLO,
  companyToken,
  exchange,
  locationToken,
  sandboxesFor,
} from "./support/sandbox-fixtures";
import { defaultCompanies, getValidator, type Sandbox, type SandboxCompany } from "../sandbox";

const LOCATIONS = "2021-07-28";

const CLINICS: SandboxCompany = {
  id: "agency-tz",
  name: "Harbour Health",
  locations: [
    {
      id: "loc-ny",
      name: "Harbour NY",
      timezone: "America/New_York",
      address: "1 Pier St",
      email: "ny@harbour.example",
    },
    { id: "loc-ldn", name: "Harbour London", timezone: "Europe/London", address: "2 Dock Rd" },
  ],
};

let sb: Sandbox;
const sandbox = sandboxesFor([CLINICS, AGENCY, SOLO]);
beforeEach(async () => {
  sb = await sandbox();
});

const getLocation = (s: Sandbox, token: string, id: string, version = LOCATIONS) =>
  request(s.url).get(`/locations/${id}`).set("Authorization", `Bearer ${token}`).set("Version", version);

describe("GET /locations/{locationId}", () => {
  it("a Location token reads its own location, shaped as locations.json's response schema", async () => {
    const token = await locationToken(sb, "loc-ny");
    const res = await getLocation(sb, token, "loc-ny").expect(200);
    expect(res.body.location).toMatchObject({
      id: "loc-ny",
      companyId: "agency-tz",
      name: "Harbour NY",
      timezone: "America/New_York",
      address: "1 Pier St",
      email: "ny@harbour.example",
    });
    expect(getValidator().responseIssues("get-location", 200, res.body)).toEqual([]);
    expect(sb.state.invalidRequests()).toEqual([]);
  });

  it("an agency token reads any location of its company", async () => {
    const token = await companyToken(sb, "agency-tz");
    const res = await getLocation(sb, token, "loc-ldn").expect(200);
    expect(res.body.location).toMatchObject({ id: "loc-ldn", companyId: "agency-tz", timezone: "Europe/London" });
    expect(sb.state.invalidRequests()).toEqual([]);
  });

  it("refuses another company's location and another location's id, as the app's mistake", async () => {
    const agency = await companyToken(sb, "agency-1");
    const foreign = await getLocation(sb, agency, "loc-ny").expect(403);
    expect(foreign.body).toEqual({ statusCode: 403, message: "The token does not have access to this location." });
    const location = await locationToken(sb, "loc-ny");
    await getLocation(sb, location, "loc-ldn").expect(403);
    expect(sb.state.invalidRequests().map((r) => r.errors[0])).toEqual([
      "location loc-ny belongs to another company",
      "location loc-ldn is not the token's location",
    ]);
  });

  it("an unknown id answers 400 (the file declares no 404), not counted as the app's mistake", async () => {
    const token = await companyToken(sb, "agency-tz");
    const res = await getLocation(sb, token, "no-such-location").expect(400);
    expect(res.body).toEqual({ statusCode: 400, message: "Location not found" });
    expect(sb.state.invalidRequests()).toEqual([]);
  });

  it("refuses what the official file refuses: the calendars' Version header, a token without the scope", async () => {
    const token = await locationToken(sb, "loc-ny");
    const wrongVersion = await getLocation(sb, token, "loc-ny", CAL).expect(400);
    expect(wrongVersion.body).toEqual({ statusCode: 400, message: "header Version must be one of: 2021-07-28" });
    expect(sb.state.invalidRequests()[0]!.operationId).toBe("get-location");

    const { access_token: narrow } = await exchange(
      sb,
      sb.state.issueCode({ locationId: "loc-ny" }, { scopes: ["calendars.readonly"] }),
    );
    await getLocation(sb, narrow, "loc-ny").expect(401);
    expect(sb.state.invalidRequests()[1]!.errors).toEqual(["token lacks scope locations.readonly"]);
  });

  it("other operations of locations.json are known but not simulated", async () => {
    const token = await locationToken(sb, "loc-ny");
    const res = await request(sb.url)
      .get("/locations/search")
      .query({ companyId: "agency-tz" })
      .set("Authorization", `Bearer ${token}`)
      .set("Version", OAUTH)
      .expect(501);
    expect(res.body.message).toMatch(/search-locations/);
  });
});

describe("renaming a sub-account or moving its zone", () => {
  it("state.updateLocation changes what get-location answers, without touching the caller's fixture", async () => {
    const token = await locationToken(sb, "loc-ny");
    sb.state.updateLocation("loc-ny", { name: "Harbour Brooklyn", timezone: "America/Chicago" });
    const res = await getLocation(sb, token, "loc-ny").expect(200);
    expect(res.body.location).toMatchObject({ name: "Harbour Brooklyn", timezone: "America/Chicago" });
    expect(CLINICS.locations[0]).toMatchObject({ name: "Harbour NY", timezone: "America/New_York" });
  });

  it("the control route does the same and names what is wrong", async () => {
    const moved = await request(sb.url)
      .patch("/_sandbox/locations/loc-ldn")
      .send({ timezone: "Asia/Tokyo" })
      .expect(200);
    expect(moved.body.location).toMatchObject({ id: "loc-ldn", name: "Harbour London", timezone: "Asia/Tokyo" });
    const bad = await request(sb.url)
      .patch("/_sandbox/locations/loc-ldn")
      .send({ timezone: "Mars/Olympus" })
      .expect(400);
    expect(bad.body.message).toMatch(/timezone Mars\/Olympus/);
    await request(sb.url).patch("/_sandbox/locations/loc-ldn").send({ name: "" }).expect(400);
    await request(sb.url).patch("/_sandbox/locations/nowhere").send({ name: "X" }).expect(404);
    expect(sb.state.findLocation("loc-ldn")!.location).toMatchObject({
      name: "Harbour London",
      timezone: "Asia/Tokyo",
    });
  });
});

describe("an agency adding a sub-account", () => {
  it("state.addLocation or the control route: known from then on, not installed, kept out of the fixture", async () => {
    sb.state.addLocation("agency-tz", { id: "loc-sf", name: "Harbour SF", timezone: "America/Los_Angeles" });
    const added = await request(sb.url)
      .post("/_sandbox/companies/agency-tz/locations")
      .send({ id: "loc-la", name: "Harbour LA", timezone: "America/Los_Angeles" })
      .expect(201);
    expect(added.body.location).toMatchObject({ id: "loc-la", name: "Harbour LA" });

    const token = await companyToken(sb, "agency-tz");
    const res = await getLocation(sb, token, "loc-la").expect(200);
    expect(res.body.location).toMatchObject({ companyId: "agency-tz", timezone: "America/Los_Angeles" });
    expect(CLINICS.locations.map((l) => l.id)).toEqual(["loc-ny", "loc-ldn"]);

    await request(sb.url)
      .post("/_sandbox/companies/agency-tz/locations")
      .send({ id: "loc-la", name: "Again" })
      .expect(400);
    await request(sb.url).post("/_sandbox/companies/nowhere/locations").send({ id: "x", name: "X" }).expect(404);
  });
});

describe("the default world", () => {
  it("gives every sub-account an IANA zone, New York and London among them", () => {
    const locations = defaultCompanies().flatMap((c) => c.locations);
    for (const location of locations) expect(IANAZone.isValidZone(location.timezone ?? "")).toBe(true);
    expect(locations.map((l) => l.timezone)).toEqual(expect.arrayContaining(["America/New_York", "Europe/London"]));
  });
});
