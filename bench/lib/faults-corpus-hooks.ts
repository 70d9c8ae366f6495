import crypto, { type KeyObject } from "node:crypto";
import { JSON_AUTH, SLOT, json, type Case, type CorpusContext } from "./faults-corpus-cases";

const HOOK = "/webhooks/highlevel";

let sequence = 0;
const delivery = (over: Record<string, unknown> = {}) => ({
  type: "ContactCreate",
  locationId: "loc-0",
  companyId: "bench-agency",
  timestamp: new Date().toISOString(),
  webhookId: `corpus-${Date.now()}-${++sequence}`,
  ...over,
});
const sign = (body: string, key: KeyObject) => crypto.sign(null, Buffer.from(body), key).toString("base64");
const hook = (name: string, body: string, signature: string | undefined, extra: Partial<Case> = {}): Case => ({
  name,
  method: "POST",
  path: HOOK,
  headers: { "Content-Type": "application/json", ...(signature ? { "x-ghl-signature": signature } : {}) },
  body,
  ...extra,
});
const signed = (name: string, payload: unknown, key: KeyObject, extra: Partial<Case> = {}) => {
  const body = typeof payload === "string" ? payload : json(payload);
  return hook(name, body, sign(body, key), extra);
};

/** HighLevel's signed webhooks and the workflow trigger: refused before anything is stored or queued. */
export function webhookCases(ctx: CorpusContext): Case[] {
  const forger = crypto.generateKeyPairSync("ed25519").privateKey;
  const replay = json(delivery());
  const tampered = delivery();
  return [
    // --- HighLevel webhooks
    hook("webhook: unsigned", json(delivery()), undefined, { expect: 401 }),
    signed("webhook: forged (someone else's key)", delivery(), forger, { expect: 401 }),
    hook(
      "webhook: body changed after signing",
      json({ ...tampered, locationId: "loc-1" }),
      sign(json(tampered), ctx.webhookKey),
      { expect: 401 },
    ),
    hook("webhook: signature not base64", json(delivery()), "%%%not-base64%%%", { expect: 401 }),
    signed(
      "webhook: stale (6 min old)",
      delivery({ timestamp: new Date(Date.now() - 6 * 60_000).toISOString() }),
      ctx.webhookKey,
      { expect: 401 },
    ),
    signed(
      "webhook: from the future (+6 min)",
      delivery({ timestamp: new Date(Date.now() + 6 * 60_000).toISOString() }),
      ctx.webhookKey,
      { expect: 401 },
    ),
    signed(
      "webhook: INSTALL without timestamp",
      { ...delivery({ type: "INSTALL" }), timestamp: undefined },
      ctx.webhookKey,
      { expect: 401 },
    ),
    signed("webhook: signed bytes, not JSON", "{not json", ctx.webhookKey, { expect: 400 }),
    signed(
      "webhook: signed JSON without type",
      { webhookId: "x", timestamp: new Date().toISOString() },
      ctx.webhookKey,
      { expect: 400 },
    ),
    // HighLevel signed it, so it is accepted (NUL dropped before storing), never refused or a 500.
    {
      ...signed(
        "webhook: signed, NUL in a field (accepted)",
        delivery({ contactName: "nul\u0000byte" }),
        ctx.webhookKey,
        {
          expect: 200,
        },
      ),
      check: (body) => (JSON.parse(body) as { status?: string }).status === "accepted",
    },
    // A type named like an Object property is stored and later ignored, never run as a handler.
    ...["constructor", "toString", "__proto__"].map((type) => ({
      ...signed(`webhook: signed, type ${type} (accepted)`, delivery({ type }), ctx.webhookKey, { expect: 200 }),
      check: (body: string) => (JSON.parse(body) as { status?: string }).status === "accepted",
    })),
    {
      ...hook("webhook: replayed delivery (answered duplicate)", replay, sign(replay, ctx.webhookKey), { expect: 200 }),
      check: (body) => (JSON.parse(body) as { status?: string }).status === "duplicate",
      setup: async () => {
        const res = await fetch(ctx.url + HOOK, {
          method: "POST",
          headers: { "Content-Type": "application/json", "x-ghl-signature": sign(replay, ctx.webhookKey) },
          body: replay,
        });
        if (res.status !== 200) throw new Error(`first delivery of the replay answered ${res.status}`);
      },
    },
    signed("webhook: body over 1 MB", delivery({ note: "x".repeat(1_200_000) }), ctx.webhookKey),
    // --- workflow trigger
    {
      name: "trigger: no API key",
      method: "POST",
      path: "/webhooks/trigger",
      headers: { "Content-Type": "application/json" },
      body: json({ locationId: "loc-0", ...SLOT }),
      expect: 401,
    },
    {
      name: "trigger: end before start",
      method: "POST",
      path: "/webhooks/trigger",
      headers: JSON_AUTH,
      body: json({ locationId: "loc-0", ...SLOT, endTime: "2000-01-01T00:00:00Z" }),
    },
  ];
}
