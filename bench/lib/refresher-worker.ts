/**
 * One app process for the refresher figure: the app's real services on the shared database and
 * sandbox; waits for "go" on stdin (so every process sweeps together), runs ONE sweep of the
 * background refresher, prints its outcome as one JSON line.
 */
import { loadConfig } from "../../src/config";
import { createDb } from "../../src/db/client";
import { createLogger } from "../../src/logger";
import { createServices } from "../../src/services";

async function main() {
  const config = loadConfig({ ...process.env, PORT: "0" });
  const db = createDb(config.DATABASE_URL!);
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
