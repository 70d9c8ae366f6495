import { Writable } from "node:stream";
import type express from "express";
import { createApp } from "../../src/app";
import type { ThrottleOptions } from "../../src/auth/throttle";
import { loadConfig, type Config } from "../../src/config";
import { createDb, type Db } from "../../src/db/client";
import { createLogger } from "../../src/logger";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../sandbox";
import { createServices, type Services } from "../../src/services";
import { generateKey } from "../../src/tokens/crypto";
import { createTestDatabase } from "./postgres";

export const TEST_API_KEY = "test-api-key-0123456789-abcdefghij";
export const TEST_OPERATOR = "Test operator";

/** Every log line the app wrote, so tests can prove no secret reaches a log. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.lines.push(chunk.toString());
    done();
  }
  get text(): string {
    return this.lines.join("");
  }
  /** The records written with this message (pino writes one JSON object a line). */
  withMessage(msg: string): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === msg);
  }
}

export interface Harness {
  app: express.Express;
  sandbox: Sandbox;
  db: Db;
  databaseUrl: string;
  config: Config;
  services: Services;
  logs: LogCapture;
  /** Environment for a child process running the app's code against the same database and sandbox. */
  childEnv: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The real app on a fresh PostgreSQL database, talking over HTTP to a fresh local HighLevel.
 * Only `env` differs between tests.
 */
export async function startHarness(
  options: {
    /** `port`: a port chosen in advance, for settings that must name the sandbox's origin. */
    sandbox?: SandboxOptions & { port?: number };
    env?: Record<string, string>;
    /** Start the durable queue and work it in this process, as every app process does. */
    jobs?: boolean;
    /** Failed-authentication throttle other than the app's own (e.g. a window short enough to see end). */
    throttle?: ThrottleOptions;
  } = {},
): Promise<Harness> {
  const sandbox = await startSandbox({ port: 0, ...options.sandbox });
  const database = await createTestDatabase();
  const config = loadConfig({
    ...sandbox.appSettings,
    TOKEN_ENCRYPTION_KEY: generateKey(),
    DATABASE_URL: database.url,
    APP_BASE_URL: "http://127.0.0.1:3999",
    PORT: "0",
    LOG_LEVEL: "debug",
    // Named as an operator would name it: the console and the audit trail show "Test operator".
    API_KEYS: `${TEST_OPERATOR}:${TEST_API_KEY}`,
    ...options.env,
  });
  const logs = new LogCapture();
  const log = createLogger(config.LOG_LEVEL, logs);
  const db = createDb(database.url, { max: 5 });
  const services = createServices(config, db, log, database.url, { authThrottle: options.throttle });
  const app = createApp(services);
  if (options.jobs) await services.startJobs();
  return {
    app,
    sandbox,
    db,
    databaseUrl: database.url,
    config,
    services,
    logs,
    childEnv: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: database.url,
      HIGHLEVEL_CLIENT_ID: config.HIGHLEVEL_CLIENT_ID,
      HIGHLEVEL_CLIENT_SECRET: config.HIGHLEVEL_CLIENT_SECRET,
      HIGHLEVEL_API_URL: config.HIGHLEVEL_API_URL,
      TOKEN_ENCRYPTION_KEY: config.TOKEN_ENCRYPTION_KEY,
      JOB_TIMEOUT_SECONDS: String(config.JOB_TIMEOUT_SECONDS),
      LOG_LEVEL: "warn",
    },
    close: async () => {
      await services.close();
      await db.$disconnect();
      await sandbox.close();
      await database.drop();
    },
  };
}
