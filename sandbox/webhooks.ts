import crypto, { type KeyObject } from "node:crypto";
import { request } from "undici";

export type WebhookPayload = Record<string, unknown>;

export interface WebhookAttempt {
  /** The receiver's status, or undefined when it could not be reached (`error` says why). */
  status?: number;
  error?: string;
  at: Date;
}

export interface WebhookDelivery {
  url: string;
  /** As sent: with `timestamp` and `webhookId`. */
  payload: WebhookPayload;
  attempts: WebhookAttempt[];
}

/** Short stand-ins for HighLevel's six retries about ten minutes apart. */
const DEFAULT_RETRY_DELAYS_MS = [100, 250, 500];
const TIMEOUT_MS = 10_000;

/**
 * HighLevel's webhook sender. Each sandbox signs with its own Ed25519 key (HighLevel's private
 * key is HighLevel's), over the exact bytes it sends, in `x-ghl-signature` (base64); the app
 * verifies with `publicKey`. Like HighLevel it retries only when the answer is 429: any other
 * status, or no answer, is final. Deliveries run concurrently, so they may arrive out of order.
 */
export class WebhookSender {
  /** Where to deliver; undefined = send nothing. */
  url: string | undefined;
  /** SPKI DER, base64: what HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY takes. */
  readonly publicKey: string;
  readonly deliveries: WebhookDelivery[] = [];
  private readonly privateKey: KeyObject;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly retryDelaysMs: number[];

  constructor(options: { url?: string; retryDelaysMs?: number[]; privateKeyPem?: string } = {}) {
    this.url = options.url;
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.privateKey = options.privateKeyPem
      ? crypto.createPrivateKey(options.privateKeyPem)
      : crypto.generateKeyPairSync("ed25519").privateKey;
    const spki = crypto.createPublicKey(this.privateKey).export({ type: "spki", format: "der" });
    this.publicKey = spki.toString("base64");
  }

  /** PKCS#8 PEM, for the state file: a restarted sandbox keeps the key the app was told. */
  privateKeyPem(): string {
    return this.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  }

  /**
   * Adds `timestamp` and `webhookId`, signs and POSTs; resolves when the delivery is final.
   * Resolves to undefined when no url is set. Never rejects: failures are in `attempts`.
   */
  send(payload: WebhookPayload): Promise<WebhookDelivery | undefined> {
    const url = this.url;
    if (!url) return Promise.resolve(undefined);
    const delivery: WebhookDelivery = {
      url,
      payload: { ...payload, timestamp: new Date().toISOString(), webhookId: crypto.randomUUID() },
      attempts: [],
    };
    this.deliveries.push(delivery);
    const done = this.deliver(delivery).then(() => delivery);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }

  /** Resolves when every delivery started so far is final (retries included). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async deliver(delivery: WebhookDelivery): Promise<void> {
    const body = Buffer.from(JSON.stringify(delivery.payload));
    const signature = crypto.sign(null, body, this.privateKey).toString("base64");
    for (let retry = 0; ; retry += 1) {
      const attempt: WebhookAttempt = { at: new Date() };
      delivery.attempts.push(attempt);
      try {
        const res = await request(delivery.url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-ghl-signature": signature },
          body,
          headersTimeout: TIMEOUT_MS,
          bodyTimeout: TIMEOUT_MS,
        });
        await res.body.dump();
        attempt.status = res.statusCode;
      } catch (err) {
        attempt.error = (err as Error).message;
      }
      const delay = this.retryDelaysMs[retry];
      if (attempt.status !== 429 || delay === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
