import crypto, { type KeyObject } from "node:crypto";
import request from "supertest";
import type { Harness } from "./harness";

/** Key pairs made for the test, standing in for HighLevel's; `env` points the app at their public halves. */
export function webhookSigners() {
  const ed25519 = crypto.generateKeyPairSync("ed25519");
  const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    ed25519,
    rsa,
    env: {
      HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY: ed25519.publicKey.export({ type: "spki", format: "pem" }).toString(),
      HIGHLEVEL_WEBHOOK_PUBLIC_KEY: rsa.publicKey.export({ type: "spki", format: "pem" }).toString(),
    },
  };
}
export type Signers = ReturnType<typeof webhookSigners>;

/** HighLevel's headers for `body`: x-ghl-signature (Ed25519) or the legacy x-wh-signature (RSA-SHA256). */
export function signatureHeaders(body: string, scheme: "ed25519" | "rsa", key: KeyObject): Record<string, string> {
  const data = Buffer.from(body);
  return scheme === "ed25519"
    ? { "x-ghl-signature": crypto.sign(null, data, key).toString("base64") }
    : { "x-wh-signature": crypto.sign("sha256", data, key).toString("base64") };
}

let sequence = 0;
/** A delivery as HighLevel sends it: fresh timestamp and webhookId unless the payload sets them. */
export const event = (payload: Record<string, unknown>) => ({
  timestamp: new Date().toISOString(),
  webhookId: `wh-${Date.now()}-${++sequence}`,
  ...payload,
});

export function deliver(
  h: Harness,
  signers: Signers,
  payload: Record<string, unknown>,
  options: { scheme?: "ed25519" | "rsa"; body?: string } = {},
) {
  const body = options.body ?? JSON.stringify(payload);
  const scheme = options.scheme ?? "ed25519";
  const key = scheme === "ed25519" ? signers.ed25519.privateKey : signers.rsa.privateKey;
  return request(h.app)
    .post("/webhooks/highlevel")
    .set("Content-Type", "application/json")
    .set(signatureHeaders(JSON.stringify(payload), scheme, key))
    .send(body);
}

/** Waits until the stored delivery is no longer `received` (or `until` holds), then returns it. */
export async function processed(
  h: Harness,
  id: string,
  until?: (outcome: string | null) => boolean,
  timeoutMs = 20_000,
) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const row = await h.db.webhookEvent.findUnique({ where: { id } });
    if (row && (until ? until(row.outcome) : row.status !== "received")) return row;
    if (Date.now() > end) throw new Error(`delivery ${id} not processed in time: ${JSON.stringify(row)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
