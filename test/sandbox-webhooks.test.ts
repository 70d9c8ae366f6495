/** Webhooks the sandbox sends as HighLevel: signed over the raw bytes, retried on 429 only. */
import crypto from "node:crypto";
import request from "supertest";
import {
  AGENCY,
  companyToken,
  createSlot,
  exchange,
  locationToken,
  SLOT,
  sandboxesFor,
} from "./support/sandbox-fixtures";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver";
import { checkTimestamp, loadWebhookKeys, verifyWebhookSignature } from "../src/webhooks/signature";
import type { Sandbox, SandboxCompany } from "../sandbox";

const CLINIC: SandboxCompany = {
  id: "agency-w",
  name: "Webhook Clinics",
  locations: [
    {
      id: "loc-w",
      name: "Clinic W",
      timezone: "Europe/London",
      email: "w@clinic.example",
      calendars: [{ id: "cal-w", name: "Visits", teamMembers: ["user-w"] }],
    },
  ],
};
const booking = {
  locationId: "loc-w",
  calendarId: "cal-w",
  startTime: "2030-05-01T09:00:00Z",
  endTime: "2030-05-01T10:00:00Z",
};

let receiver: WebhookReceiver;
let sb: Sandbox;
const sandbox = sandboxesFor([CLINIC, AGENCY]);
beforeEach(async () => {
  receiver = await startWebhookReceiver();
  sb = await sandbox({ webhookUrl: receiver.url, webhookRetryDelaysMs: [10, 10, 10] });
});
afterEach(() => receiver.close());

describe("signatures", () => {
  it("x-ghl-signature verifies over the raw body with the published key, as the app's configuration takes it", async () => {
    await sb.state.sendWebhook({ type: "AppointmentCreate", locationId: "loc-w", appointment: { id: "a1" } });
    const [delivery] = receiver.received;
    expect(delivery!.body).toMatchObject({ type: "AppointmentCreate", webhookId: expect.any(String) });
    expect(checkTimestamp(delivery!.body.timestamp)).toEqual({ ok: true });

    const keys = loadWebhookKeys({ ed25519: sb.state.webhookPublicKey });
    expect(verifyWebhookSignature(delivery!.raw, delivery!.headers, keys)).toEqual({ ok: true, scheme: "ed25519" });
    const tampered = Buffer.from(delivery!.raw.toString().replace("a1", "a2"));
    expect(verifyWebhookSignature(tampered, delivery!.headers, keys).ok).toBe(false);
    const otherSandbox = await sandbox();
    const otherKeys = loadWebhookKeys({ ed25519: otherSandbox.state.webhookPublicKey });
    expect(verifyWebhookSignature(delivery!.raw, delivery!.headers, otherKeys).ok).toBe(false);
  });

  it("each delivery gets its own webhookId", async () => {
    await Promise.all([sb.state.sendWebhook({ type: "X" }), sb.state.sendWebhook({ type: "X" })]);
    const ids = receiver.received.map((r) => r.body.webhookId);
    expect(new Set(ids).size).toBe(2);
  });
});

describe("retries", () => {
  it("only a 429 is retried, a few times", async () => {
    receiver.answerNext(429, 429);
    const retried = await sb.state.sendWebhook({ type: "X" });
    expect(retried!.attempts.map((a) => a.status)).toEqual([429, 429, 200]);
    expect(new Set(receiver.received.map((r) => r.body.webhookId)).size).toBe(1);

    receiver.answerNext(500);
    const failed = await sb.state.sendWebhook({ type: "Y" });
    expect(failed!.attempts.map((a) => a.status)).toEqual([500]);

    receiver.answerNext(429, 429, 429, 429);
    const givenUp = await sb.state.sendWebhook({ type: "Z" });
    expect(givenUp!.attempts).toHaveLength(4);
  });

  it("no webhookUrl, nothing sent; a receiver that is down is recorded, not thrown", async () => {
    sb.state.webhookUrl = undefined;
    expect(await sb.state.sendWebhook({ type: "X" })).toBeUndefined();
    sb.state.webhookUrl = "http://127.0.0.1:1/webhooks";
    const down = await sb.state.sendWebhook({ type: "X" });
    expect(down!.attempts).toEqual([expect.objectContaining({ error: expect.any(String) })]);
    expect(receiver.received).toEqual([]);
  });
});

describe("what HighLevel announces", () => {
  it("INSTALL as soon as consent is given, before the app has exchanged the code", async () => {
    const consent = `/v2/oauth/chooselocation?${new URLSearchParams({
      response_type: "code",
      client_id: sb.state.clientId,
      redirect_uri: "http://127.0.0.1:3999/oauth/callback",
      scope: "calendars/events.write",
    })}`;
    const allowed = await request(sb.url).post(consent).type("form").send({ target: "location:loc-w" }).expect(302);
    await sb.state.webhooks.idle();
    const code = new URL(allowed.headers.location as string).searchParams.get("code")!;
    expect(sb.state.codes.get(code)!.used).toBe(false);
    expect(receiver.ofType("INSTALL").map((r) => r.body)).toEqual([
      expect.objectContaining({
        appId: "sandbox",
        locationId: "loc-w",
        companyId: "agency-w",
        companyName: "Webhook Clinics",
        userId: expect.any(String),
      }),
    ]);

    await companyToken(sb, "agency-1");
    await sb.state.webhooks.idle();
    const agency = receiver.ofType("INSTALL")[1]!.body;
    expect(agency).toMatchObject({ companyId: "agency-1", companyName: "Bright Smiles Group" });
    expect(agency).not.toHaveProperty("locationId");
  });

  it("LocationUpdate when a sub-account changes (the zone is not in it: apps read the location again)", async () => {
    sb.state.updateLocation("loc-w", { name: "Clinic W2", timezone: "Europe/Paris" });
    await sb.state.webhooks.idle();
    expect(receiver.ofType("LocationUpdate").map((r) => r.body)).toEqual([
      expect.objectContaining({ id: "loc-w", companyId: "agency-w", name: "Clinic W2", email: "w@clinic.example" }),
    ]);
  });

  it("LocationCreate when the agency adds a sub-account", async () => {
    sb.state.addLocation("agency-w", { id: "loc-new", name: "Clinic New", timezone: "Europe/Madrid" });
    await sb.state.webhooks.idle();
    expect(receiver.ofType("LocationCreate").map((r) => r.body)).toEqual([
      expect.objectContaining({ id: "loc-new", companyId: "agency-w", name: "Clinic New" }),
    ]);
  });

  it("an agency installed to future sub-accounts: each one it adds gets the app, and an INSTALL without companyId", async () => {
    await companyToken(sb, "agency-1"); // consent to all sub-accounts, future ones included
    await sb.state.webhooks.idle();
    sb.state.addLocation("agency-1", { id: "loc-future", name: "Bright Smiles Quay" });
    sb.state.addLocation("agency-w", { id: "loc-not-future", name: "Clinic Two" });
    await sb.state.webhooks.idle();
    expect(sb.state.installs.has("loc-future")).toBe(true);
    expect(sb.state.installs.has("loc-not-future")).toBe(false);
    const installs = receiver.ofType("INSTALL").map((r) => r.body);
    expect(installs.filter((b) => b.locationId !== undefined)).toEqual([
      expect.objectContaining({ type: "INSTALL", locationId: "loc-future" }),
    ]);
    expect(installs.at(-1)).not.toHaveProperty("companyId");
  });

  it("AppointmentCreate, Update and Delete, through the state and the control routes", async () => {
    const appointment = sb.state.addAppointment(booking);
    await request(sb.url).post(`/_sandbox/appointments/${appointment.id}/cancel`).expect(200);
    await request(sb.url).delete(`/_sandbox/appointments/${appointment.id}`).expect(204);
    await sb.state.webhooks.idle();
    const events = receiver.received.map((r) => [
      r.body.type,
      (r.body.appointment as { appointmentStatus: string }).appointmentStatus,
    ]);
    expect(events.sort()).toEqual([
      ["AppointmentCreate", "confirmed"],
      ["AppointmentDelete", "cancelled"],
      ["AppointmentUpdate", "cancelled"],
    ]);
    expect(receiver.ofType("AppointmentCreate")[0]!.body).toMatchObject({
      locationId: "loc-w",
      appointment: { id: appointment.id, calendarId: "cal-w" },
    });
  });

  it("AppointmentDelete also when an app deletes the appointment through the API", async () => {
    const appointment = sb.state.addAppointment(booking);
    const token = await locationToken(sb, "loc-w");
    await request(sb.url)
      .delete(`/calendars/events/${appointment.id}`)
      .set("Authorization", `Bearer ${token}`)
      .set("Version", "2021-04-15")
      .send({})
      .expect(201);
    await sb.state.webhooks.idle();
    expect(receiver.ofType("AppointmentDelete")).toHaveLength(1);
  });

  it("UNINSTALL through the control route, and the tokens stop working", async () => {
    const { access_token, refresh_token } = await exchange(sb, sb.state.issueCode({ locationId: "loc-a" }));
    await request(sb.url).post("/_sandbox/uninstall").send({ locationId: "loc-a" }).expect(204);
    await sb.state.webhooks.idle();
    expect(receiver.ofType("UNINSTALL").map((r) => r.body)).toEqual([
      expect.objectContaining({ appId: "sandbox", locationId: "loc-a" }),
    ]);
    expect(sb.state.installs.has("loc-a")).toBe(false);
    await createSlot(sb, access_token, SLOT).expect(401);
    expect(sb.state.refreshTokens.get(refresh_token)!.dead).toBe("revoked");
    await request(sb.url).post("/_sandbox/uninstall").send({ companyId: "agency-1" }).expect(204);
    await request(sb.url).post("/_sandbox/uninstall").send({}).expect(400);
  });
});

it("the public key is SPKI DER of an Ed25519 key", () => {
  const key = crypto.createPublicKey({
    key: Buffer.from(sb.state.webhookPublicKey, "base64"),
    format: "der",
    type: "spki",
  });
  expect(key.asymmetricKeyType).toBe("ed25519");
});
