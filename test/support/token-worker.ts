/**
 * A separate app process for the concurrency tests: it builds the app's real services against
 * the shared database and sandbox, waits for "go" on stdin (so all processes start together),
 * makes the calls it was given concurrently, and prints one JSON line with the outcome.
 */
import { loadConfig } from "../../src/config";
import { createDb } from "../../src/db/client";
import { createLogger } from "../../src/logger";
import { createServices } from "../../src/services";

async function main() {
  const locationIds = JSON.parse(process.argv[2] ?? "[]") as string[];
  const config = loadConfig({ ...process.env, PORT: "0" });
  const db = createDb(config.DATABASE_URL!, { max: 5 });
  const { tokenService, calendars } = createServices(config, db, createLogger(config.LOG_LEVEL), config.DATABASE_URL!);
  await db.$queryRaw`SELECT 1`;
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));

  const now = Date.now();
  const results = await Promise.allSettled(
    locationIds.map((locationId) =>
      tokenService.withAccessToken(locationId, (token) =>
        calendars.listBlockedSlots(token, {
          locationId,
          calendarId: "cal-1",
          startTime: now,
          endTime: now + 3_600_000,
        }),
      ),
    ),
  );
  const errors = results.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error).message)] : []));
  process.stdout.write(JSON.stringify({ ok: results.length - errors.length, errors: errors.slice(0, 5) }) + "\n");
  await db.$disconnect();
}

main().catch((err: unknown) => {
  process.stdout.write(JSON.stringify({ ok: 0, errors: [String(err)] }) + "\n");
  process.exit(1);
});
