import { Client } from "pg";
import type { Logger } from "pino";
import { databaseShuttingDown } from "../errors";

/** A process-local cache kept in step with rows other processes change. */
export interface ChangeSubscriber {
  /** A row named by `payload` changed or went: drop what was kept of it. */
  changed(payload: string): void;
  /** Notifications may have been missed (connection lost, or just made): drop everything. */
  lost(): void;
}

const RECONNECT_MS = 1_000;

/**
 * One PostgreSQL connection per process that LISTENs on the channels triggers notify (see the
 * *_change_notify migrations) and tells each channel's subscribers. While it is not listening —
 * starting, or reconnecting after a lost connection — `listening` is false and the caches fall
 * back to short lifetimes or none.
 */
export class ChangeListener {
  private readonly channels = new Map<string, ChangeSubscriber[]>();
  private client: Client | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  listening = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
  ) {}

  subscribe(channel: string, subscriber: ChangeSubscriber): void {
    if (!/^[a-z_]+$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
    this.channels.set(channel, [...(this.channels.get(channel) ?? []), subscriber]);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  private lostAll(): void {
    for (const subscribers of this.channels.values()) for (const s of subscribers) s.lost();
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    this.client = client;
    client.on("notification", (message) => {
      for (const s of this.channels.get(message.channel) ?? []) s.changed(message.payload ?? "");
    });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.listening = false;
      this.lostAll();
      client.removeAllListeners();
      client.on("error", () => {});
      void client.end().catch(() => {});
      if (this.stopped) return;
      // An operational event (a restart, a network cut), not a bug: one line, no stack.
      this.log[databaseShuttingDown(err) ? "info" : "warn"](
        { reason: err?.message },
        "change notifications lost; reconnecting",
      );
      this.timer = setTimeout(() => void this.connect(), RECONNECT_MS);
      this.timer.unref();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    try {
      await client.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${channel}`);
      // Anything kept before now may have changed unseen.
      this.lostAll();
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
    this.lostAll();
    if (client) {
      client.removeAllListeners();
      client.on("error", () => {});
      await client.end().catch(() => {});
    }
  }
}
