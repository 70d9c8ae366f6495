/** The sandbox's stateFile: what HighLevel remembers survives a restart of the sandbox. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { AGENCY, CAL, SLOT, createSlot, exchange, tokenRequest } from "./support/sandbox-fixtures";
import { startSandbox, type Sandbox } from "../sandbox";

let dir: string;
let file: string;
const open: Sandbox[] = [];

async function start(withStateFile = true): Promise<Sandbox> {
  const s = await startSandbox({ companies: [AGENCY], stateFile: withStateFile ? file : undefined });
  open.push(s);
  return s;
}

async function stop(s: Sandbox): Promise<void> {
  open.splice(open.indexOf(s), 1);
  await s.close();
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-state-"));
  // A folder that does not exist yet, as `.data/` on a first demo run.
  file = path.join(dir, "data", "sandbox-state.json");
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const refresh = (s: Sandbox, refreshToken: string) =>
  tokenRequest(s, { grant_type: "refresh_token", refresh_token: refreshToken, user_type: "Location" });

function listSlots(s: Sandbox, accessToken: string) {
  return request(s.url)
    .get("/calendars/blocked-slots")
    .query({ locationId: "loc-a", calendarId: SLOT.calendarId, startTime: "0", endTime: String(Date.UTC(2031, 0)) })
    .set("Authorization", `Bearer ${accessToken}`)
    .set("Version", CAL);
}

describe("a sandbox restarted on the same stateFile", () => {
  it("still knows the tokens, installs and block slots of the previous run", async () => {
    const first = await start();
    expect(first.state.stateFileStatus).toBe("missing");
    const tokens = await exchange(first, first.state.issueCode({ locationId: "loc-a" }));
    const slot = (await createSlot(first, tokens.access_token, SLOT).expect(201)).body as { id: string };
    const installedAt = first.state.installs.get("loc-a");
    const expiresAt = first.state.refreshTokens.get(tokens.refresh_token)?.expiresAt;
    await stop(first);

    const second = await start();
    expect(second.state.stateFileStatus).toBe("loaded");
    const listed = await listSlots(second, tokens.access_token).expect(200);
    expect(listed.body.events).toEqual([expect.objectContaining({ id: slot.id, title: SLOT.title })]);
    expect(second.state.installs.get("loc-a")).toEqual(installedAt);
    expect(second.state.installs.get("loc-a")).toBeInstanceOf(Date);
    expect(second.state.refreshTokens.get(tokens.refresh_token)?.expiresAt).toEqual(expiresAt);
    expect(second.state.refreshTokens.get(tokens.refresh_token)?.expiresAt).toBeInstanceOf(Date);

    const rotated = await refresh(second, tokens.refresh_token).expect(200);
    expect(rotated.body).toMatchObject({ locationId: "loc-a", userId: tokens.userId });
    await refresh(second, tokens.refresh_token).expect(400, {
      statusCode: 400,
      message: "Invalid grant: refresh token is invalid",
    });
    await stop(second);

    // The rotation itself must have been saved: the old token stays spent, the new one works.
    const third = await start();
    await refresh(third, tokens.refresh_token).expect(400);
    await refresh(third, rotated.body.refresh_token as string).expect(200);
    expect(third.state.invalidRequests()).toEqual([]);
  });

  it("remembers a deleted block slot as deleted and an edit as edited", async () => {
    const first = await start();
    const { access_token: token } = await exchange(first, first.state.issueCode({ locationId: "loc-a" }));
    const kept = (await createSlot(first, token, SLOT).expect(201)).body as { id: string };
    const gone = (await createSlot(first, token, SLOT).expect(201)).body as { id: string };
    const auth = { Authorization: `Bearer ${token}`, Version: CAL };
    await request(first.url)
      .put(`/calendars/events/block-slots/${kept.id}`)
      .set(auth)
      .send({ ...SLOT, title: "Edited" })
      .expect(201);
    await request(first.url).delete(`/calendars/events/${gone.id}`).set(auth).send({}).expect(201);
    await stop(first);

    const second = await start();
    expect(second.state.blockSlots().map((s) => [s.id, s.title])).toEqual([[kept.id, "Edited"]]);
  });

  it("saves shortly after a change, without waiting for close (a killed demo loses little)", async () => {
    const s = await start();
    const saved = () =>
      (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {}) as Record<
        string,
        { token?: string; id?: string }[]
      >;
    // Saved while the sandbox runs: a few hundred ms at rest, later on a loaded machine (a save
    // waits ten times as long as the last one took); close() is never called before the checks.
    const savedSoon = async (check: (file: ReturnType<typeof saved>) => boolean) => {
      for (let waited = 0; waited < 10_000 && !check(saved()); waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return saved();
    };
    const tokens = await exchange(s, s.state.issueCode({ locationId: "loc-a" }));
    const first = await savedSoon((f) => (f.refreshTokens ?? []).some((t) => t.token === tokens.refresh_token));
    expect(first.refreshTokens?.map((t) => t.token)).toContain(tokens.refresh_token);
    // Routes store slots without a SandboxState method: the save after each answer covers them.
    const slot = (await createSlot(s, tokens.access_token, SLOT).expect(201)).body as { id: string };
    const second = await savedSoon((f) => (f.slots ?? []).length > 0);
    expect(second.slots?.map((t) => t.id)).toEqual([slot.id]);
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
  });
});

describe("what the sandbox added later is kept too", () => {
  it("appointments, added, renamed or moved sub-accounts, and the key webhooks are signed with", async () => {
    const first = await start();
    const appointment = first.state.addAppointment({
      locationId: "loc-a",
      calendarId: "cal-1",
      startTime: "2030-05-01T09:00:00Z",
      endTime: "2030-05-01T10:00:00Z",
    });
    first.state.updateLocation("loc-b", { name: "Uptown (moved)", timezone: "Europe/Dublin" });
    first.state.addLocation("agency-1", { id: "loc-d", name: "Bright Smiles Docks" });
    first.state.updateLocation("loc-d", { name: "Bright Smiles Quay" });
    const key = first.state.webhookPublicKey;
    await stop(first);

    const second = await start();
    expect(second.state.appointments.get(appointment.id)).toEqual(appointment);
    expect(second.state.findLocation("loc-b")!.location).toMatchObject({
      name: "Uptown (moved)",
      timezone: "Europe/Dublin",
    });
    expect(second.state.findLocation("loc-d")).toMatchObject({
      company: { id: "agency-1" },
      location: { name: "Bright Smiles Quay" },
    });
    expect(second.state.webhookPublicKey).toBe(key);
    // A sandbox of its own has a key of its own.
    expect((await start(false)).state.webhookPublicKey).not.toBe(key);
  });

  it("a file written before those existed (version 1) still loads", async () => {
    const first = await start();
    const tokens = await exchange(first, first.state.issueCode({ locationId: "loc-a" }));
    await stop(first);
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    for (const key of ["appointments", "locationChanges", "webhookPrivateKey"]) delete saved[key];
    fs.writeFileSync(file, JSON.stringify({ ...saved, version: 1 }));

    const second = await start();
    expect(second.state.stateFileStatus).toBe("loaded");
    await refresh(second, tokens.refresh_token).expect(200);
  });
});

describe("a stateFile that cannot be used", () => {
  it("a corrupt file: the sandbox starts fresh, warns, and keeps the file aside", async () => {
    const warn = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"version":1,"codes":[{"co');

    const s = await start();
    expect(s.state.stateFileStatus).toBe("corrupt");
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("corrupt"));
    expect(fs.readFileSync(`${file}.corrupt`, "utf8")).toBe('{"version":1,"codes":[{"co');
    const tokens = await exchange(s, s.state.issueCode({ locationId: "loc-a" }));
    await stop(s);

    const again = await start();
    expect(again.state.stateFileStatus).toBe("loaded");
    await refresh(again, tokens.refresh_token).expect(200);
  });

  it("valid JSON with a broken date is corrupt too, rather than a token that never expires", async () => {
    jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const first = await start();
    await exchange(first, first.state.issueCode({ locationId: "loc-a" }));
    await stop(first);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/"expiresAt": "[^"]+"/, '"expiresAt": "soon"'));

    const second = await start();
    expect(second.state.stateFileStatus).toBe("corrupt");
    expect(second.state.refreshTokens.size).toBe(0);
  });

  it("without a stateFile nothing is read or written", async () => {
    const write = jest.spyOn(fs, "writeFileSync");
    const s = await start(false);
    await exchange(s, s.state.issueCode({ locationId: "loc-a" }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stop(s);
    expect(s.state.stateFileStatus).toBeUndefined();
    expect(write).not.toHaveBeenCalled();
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
