import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  /** The exact bytes received: signatures are over these. */
  raw: Buffer;
  body: Record<string, unknown>;
  /** What the receiver answered. */
  status: number;
}

/**
 * A stand-in for the app's webhook endpoint, for tests of what the sandbox sends: it keeps
 * every delivery and answers 200, or the statuses queued with `answerNext()` first.
 */
export async function startWebhookReceiver() {
  const received: ReceivedWebhook[] = [];
  const queued: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const status = queued.shift() ?? 200;
      received.push({ headers: req.headers, raw, body: JSON.parse(raw.toString("utf8")), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/highlevel`,
    received,
    /** The payloads received so far of this `type`. */
    ofType: (type: string) => received.filter((r) => r.body.type === type),
    answerNext(...statuses: number[]) {
      queued.push(...statuses);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
