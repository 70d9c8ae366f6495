import { Client } from "pg";
import type { Logger } from "pino";
import type { Owner } from "./store";

/** What the listener tells: one installation's tokens changed, or nothing can be trusted now. */
export interface TokenCache {
  forget(owner: Owner, id: string): void;
  /** The connection was lost: notifications may have been missed. */
  forgetAll(): void;
}

const CHANNEL = "token_changes";
const RECONNECT_MS = 1_000;

/**
 * Listens on PostgreSQL for `token_changes` (sent by a trigger on every update or delete of a
 * location or company, see the token_change_notify migration) and drops that entry from this
 * process's token cache. While it is not listening — starting, or reconnecting after a lost
 * connection — `listening` is false and the token service falls back to its short cache.
 */
export class TokenChangeListener {
  private client: Client | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  listening = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly cache: TokenCache,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    this.client = client;
    client.on("notification", (message) => {
      const [owner, ...rest] = (message.payload ?? "").split(":");
      if (owner === "location" || owner === "company") this.cache.forget(owner, rest.join(":"));
    });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.listening = false;
      this.cache.forgetAll();
      client.removeAllListeners();
      client.on("error", () => {});
      void client.end().catch(() => {});
      if (this.stopped) return;
      this.log.warn({ err }, "token change notifications lost; reconnecting");
      this.timer = setTimeout(() => void this.connect(), RECONNECT_MS);
      this.timer.unref();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      // Anything cached before now may have changed unseen.
      this.cache.forgetAll();
      this.listening = true;
    } catch (err) {
      lost(err as Error);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    this.listening = false;
    this.cache.forgetAll();
    if (client) {
      client.removeAllListeners();
      client.on("error", () => {});
      await client.end().catch(() => {});
    }
  }
}
