/** An agency of 2,000 sub-accounts, and the rate limits a benchmark reads back. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { AGENCY, OAUTH, createSlot, exchange, locationToken, SLOT, sandboxesFor } from "./support/sandbox-fixtures";
import { buildAgency, type Sandbox } from "../sandbox";
import { RateLimiter } from "../sandbox/rate-limit";

const SIZE = 2000;
const LARGE = buildAgency(SIZE, { id: "agency-2k", name: "Two Thousand Clinics" });
const REDIRECT = "http://127.0.0.1:3999/oauth/callback";
const sandbox = sandboxesFor([LARGE, AGENCY]);

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-scale-"));
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

function consent(s: Sandbox) {
  const query = new URLSearchParams({
    response_type: "code",
    client_id: s.state.clientId,
    redirect_uri: REDIRECT,
    scope: "oauth.readonly oauth.write calendars/events.write",
  });
  return `/v2/oauth/chooselocation?${query}`;
}

async function allow(s: Sandbox, form: string): Promise<string> {
  const res = await request(s.url).post(consent(s)).type("form").send(form).expect(302);
  return new URL(res.headers.location as string).searchParams.get("code")!;
}

async function installedIds(s: Sandbox, token: string): Promise<{ ids: string[]; count: number }> {
  const ids: string[] = [];
  for (let skip = 0; ; skip += 100) {
    const page = await request(s.url)
      .get("/oauth/installedLocations")
      .query({ companyId: "agency-2k", appId: s.state.appId, isInstalled: true, skip, limit: 100 })
      .set("Authorization", `Bearer ${token}`)
      .set("Version", OAUTH)
      .expect(200);
    ids.push(...page.body.locations.map((l: { _id: string }) => l._id));
    if (page.body.locations.length < 100) return { ids, count: page.body.count as number };
  }
}

const mint = (s: Sandbox, token: string, locationId: string) =>
  request(s.url)
    .post("/oauth/locationToken")
    .set("Authorization", `Bearer ${token}`)
    .set("Version", OAUTH)
    .type("form")
    .send({ companyId: "agency-2k", locationId });

describe("an agency of 2,000 sub-accounts", () => {
  it("consent for all → code exchange → every installedLocations page → a token minted for each", async () => {
    // One agency token minting 2,000 times would wait out HighLevel's burst limit for minutes.
    const s = await sandbox({ rateLimit: { burst: 100_000 }, stateFile: path.join(dir, "state.json") });
    const page = await request(s.url).get(consent(s)).expect(200);
    expect(page.text).toContain("Clinic 2000");
    expect(page.text).toContain("Installs on all 2000 sub-accounts");

    const code = await allow(s, "target=company%3Aagency-2k");
    const company = await exchange(s, code);
    expect(company).toMatchObject({ userType: "Company", approveAllLocations: true, installToFutureLocations: true });
    expect(company.approvedLocations).toHaveLength(SIZE);

    const { ids, count } = await installedIds(s, company.access_token);
    expect(count).toBe(SIZE);
    expect(new Set(ids)).toEqual(new Set(LARGE.locations.map((l) => l.id)));

    const writes = jest.spyOn(fs, "writeFileSync");
    for (let i = 0; i < ids.length; i += 50) {
      const answers = await Promise.all(ids.slice(i, i + 50).map((id) => mint(s, company.access_token, id)));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    }
    expect(s.state.mintCount()).toBe(SIZE);
    expect(ids.every((id) => s.state.mintCount(id) === 1)).toBe(true);
    expect(s.state.invalidRequests()).toEqual([]);
    // Saves are batched: a burst of 2,000 changes is far fewer writes of the state file.
    expect(writes.mock.calls.length).toBeLessThan(SIZE / 10);
    // Some 2,100 requests: seconds on an idle machine, more when CPUs are shared; no timing goal here.
  }, 120_000);

  it("consent for some: an agency token for the ticked sub-accounts only", async () => {
    const s = await sandbox();
    const chosen = LARGE.locations.slice(0, 1200).map((l) => l.id);
    const code = await allow(
      s,
      ["target=company-some%3Aagency-2k", ...chosen.map((id) => `locationIds=${id}`)].join("&"),
    );
    const company = await exchange(s, code);
    expect(company).toMatchObject({ userType: "Company", approveAllLocations: false, installToFutureLocations: false });
    expect(company.approvedLocations).toEqual(chosen);
    expect((await installedIds(s, company.access_token)).count).toBe(1200);

    await mint(s, company.access_token, chosen[0]!).expect(200);
    const unticked = await mint(s, company.access_token, LARGE.locations[1500]!.id).expect(400);
    expect(unticked.body.message).toBe("The app is not installed on this location");

    const none = await request(s.url).post(consent(s)).type("form").send("target=company-some%3Aagency-2k").expect(400);
    expect(none.text).toContain("Tick at least one sub-account");
  });
});

describe("rate limits", () => {
  it("can answer 429 with only the X-RateLimit-* headers, as HighLevel documents", async () => {
    const s = await sandbox({ rateLimit: { burst: 1, retryAfter: false } });
    const token = await locationToken(s, "loc-a");
    await createSlot(s, token, SLOT).expect(201);
    const limited = await createSlot(s, token, SLOT).expect(429);
    expect(limited.headers["retry-after"]).toBeUndefined();
    expect(limited.headers).toMatchObject({ "x-ratelimit-remaining": "0", "x-ratelimit-max": "1" });

    await request(s.url).patch("/_sandbox/settings").send({ retryAfter: true }).expect(200);
    expect((await createSlot(s, token, SLOT).expect(429)).headers["retry-after"]).toEqual(expect.any(String));
    expect(s.state.rateLimiter.rejected("loc-a")).toBe(2);
    expect(s.state.rateLimiter.peak("loc-a")).toBe(1);
  });

  it("peak() is the most requests accepted in any interval-long window, across fixed windows' edges", () => {
    const limiter = new RateLimiter({ burst: 5, intervalMs: 1000 });
    const res = { set: () => res } as unknown as Parameters<RateLimiter["hit"]>[1];
    const at = (times: number[]) => times.map((t) => limiter.hit("loc", res, t).allowed);
    // The first window opens at 0: five late in it, five early in the next — all allowed.
    expect(at([0, 900, 910, 920, 930])).toEqual([true, true, true, true, true]);
    expect(at([1000, 1010, 1020, 1030, 1040, 1050])).toEqual([true, true, true, true, true, false]);
    // 900…1040 holds nine accepted requests within one second.
    expect(limiter.peak("loc")).toBe(9);
    expect(limiter.rejected("loc")).toBe(1);
    expect(limiter.peak("elsewhere")).toBe(0);
  });
});
