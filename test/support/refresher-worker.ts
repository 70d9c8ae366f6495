/**
 * A separate app process for the refresher test: builds the app's real services against the
 * shared database and sandbox, waits for "go" on stdin (so all processes sweep together), runs
 * one sweep of the background refresher, and prints its outcome as one JSON line.
 */
import { loadConfig } from "../../src/config";
import { createDb } from "../../src/db/client";
import { createLogger } from "../../src/logger";
import { createServices } from "../../src/services";

async function main() {
  const config = loadConfig({ ...process.env, PORT: "0" });
  const db = createDb(config.DATABASE_URL!, { max: 5 });
  const services = createServices(config, db, createLogger(config.LOG_LEVEL), config.DATABASE_URL!);
  await db.$queryRaw`SELECT 1`;
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
  const result = await services.refresher.sweep();
  process.stdout.write(JSON.stringify(result) + "\n");
  await services.close();
  await db.$disconnect();
}

main().catch((err: unknown) => {
  process.stdout.write(JSON.stringify({ error: String(err) }) + "\n");
  process.exit(1);
});
