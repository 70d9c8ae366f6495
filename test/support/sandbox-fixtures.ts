/** Fixtures and raw HighLevel-style requests shared by the tests that talk to the sandbox directly. */
import request from "supertest";
import { startSandbox, type Sandbox, type SandboxCompany, type SandboxOptions } from "../../sandbox";

export const CAL = "2021-04-15";
export const OAUTH = "2021-07-28";

/** An agency with three sub-accounts, one of which HighLevel refuses to mint a token for. */
export const AGENCY: SandboxCompany = {
  id: "agency-1",
  name: "Bright Smiles Group",
  locations: [
    { id: "loc-a", name: "Bright Smiles Downtown" },
    { id: "loc-b", name: "Bright Smiles Uptown" },
    {
      id: "loc-c",
      name: "Bright Smiles Airport",
      mintError: { status: 400, body: { statusCode: 400, message: "Location is not active" } },
    },
  ],
};

/** An agency with a single sub-account. */
export const SOLO: SandboxCompany = {
  id: "agency-2",
  name: "Solo Agency",
  locations: [{ id: "loc-solo", name: "Solo Clinic" }],
};

/**
 * `company` with named calendars in some locations: HighLevel then lists them, and only them are
 * accepted where a calendar is named (e.g. a blocking rule's source or target).
 */
export function withCalendars(company: SandboxCompany, calendars: Record<string, string[]>): SandboxCompany {
  return {
    ...company,
    locations: company.locations.map((l) =>
      calendars[l.id] ? { ...l, calendars: calendars[l.id]!.map((id) => ({ id, name: `Calendar ${id}` })) } : l,
    ),
  };
}

export const SLOT = {
  locationId: "loc-a",
  calendarId: "cal-1",
  title: "Lunch",
  startTime: "2030-05-01T12:00:00+02:00",
  endTime: "2030-05-01T13:00:00+02:00",
};

/** A create body for the app's API (loc-solo's tests), and the sandbox request it turns into. */
export const SOLO_SLOT = {
  calendarId: "cal-1",
  title: "Team training",
  startTime: "2030-05-01T12:00:00+02:00",
  endTime: "2030-05-01T13:00:00+02:00",
};
export const SOLO_SLOTS = "/api/locations/loc-solo/block-slots";
export const CREATE_REQUEST = { method: "POST", path: "/calendars/events/block-slots" };

export function tokenRequest(s: Sandbox, fields: Record<string, string>) {
  return request(s.url)
    .post("/oauth/token")
    .type("form")
    .send({ client_id: s.state.clientId, client_secret: s.state.clientSecret, ...fields });
}

export async function exchange(s: Sandbox, code: string, userType = "Location") {
  const res = await tokenRequest(s, { grant_type: "authorization_code", code, user_type: userType }).expect(200);
  return res.body as Record<string, unknown> & { access_token: string; refresh_token: string };
}

export const locationToken = async (s: Sandbox, locationId: string) =>
  (await exchange(s, s.state.issueCode({ locationId }))).access_token;
export const companyToken = async (s: Sandbox, companyId: string) =>
  (await exchange(s, s.state.issueCode({ companyId }))).access_token;

export function createSlot(s: Sandbox, token: string, body: Record<string, unknown>) {
  return request(s.url)
    .post("/calendars/events/block-slots")
    .set("Authorization", `Bearer ${token}`)
    .set("Version", CAL)
    .send(body);
}

/** A sandbox factory for one test file; every sandbox it started is closed after each test. */
export function sandboxesFor(companies: SandboxCompany[]): (options?: SandboxOptions) => Promise<Sandbox> {
  const started: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const s = await startSandbox({ companies, ...options });
    started.push(s);
    return s;
  };
}
