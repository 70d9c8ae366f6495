import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "./config";
import { DATA_DIR } from "./db/database";
import { createLogger } from "./logger";
import { startRuntime } from "./runtime";
import { startSandbox } from "./sandbox";
import { generateKey } from "./tokens/crypto";

/**
 * `npm run demo`: the whole product with nothing configured — embedded PostgreSQL under
 * `.data/`, the local HighLevel sandbox, the app. The encryption key is generated once and kept
 * beside the data, so tokens stored by one run still decrypt in the next.
 */
function demoEncryptionKey(): string {
  const file = path.join(DATA_DIR, "demo-encryption-key");
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const key = generateKey();
  fs.writeFileSync(file, key, { mode: 0o600 });
  return key;
}

async function main() {
  const sandbox = await startSandbox({ port: Number(process.env.SANDBOX_PORT ?? 0) });
  const port = process.env.PORT ?? "3000";
  const config = loadConfig({
    PORT: port,
    APP_BASE_URL: process.env.APP_BASE_URL ?? `http://localhost:${port}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    API_KEYS: process.env.API_KEYS ?? "",
    HIGHLEVEL_CLIENT_ID: sandbox.state.clientId,
    HIGHLEVEL_CLIENT_SECRET: sandbox.state.clientSecret,
    HIGHLEVEL_API_URL: sandbox.url,
    HIGHLEVEL_MARKETPLACE_URL: sandbox.url,
    TOKEN_ENCRYPTION_KEY: demoEncryptionKey(),
    // The demo always runs on its own embedded PostgreSQL, never on a configured database.
    DATABASE_URL: "",
  });
  const log = createLogger(config.LOG_LEVEL);
  const running = await startRuntime(config, log).catch(async (err: unknown) => {
    await sandbox.close();
    throw err;
  });

  process.stdout.write(
    `\n  Block Slots for HighLevel is running with a local HighLevel sandbox.\n\n  Open ${running.url}\n\n  Press Ctrl-C to stop.\n\n`,
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nStopping…\n");
    await running.stop();
    await sandbox.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`The demo could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
