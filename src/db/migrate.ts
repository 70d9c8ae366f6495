import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * True when every migration folder shipped with the app is recorded as finished in the
 * database. Prisma's CLI costs a Node process and seconds of start-up on a busy machine, which
 * every `npm run api-key` and every server start would pay for nothing on an up-to-date database.
 */
async function upToDate(databaseUrl: string): Promise<boolean> {
  const shipped = fs
    .readdirSync(path.join(ROOT, "prisma", "migrations"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ migration_name: string }>(
      `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    return shipped.every((name) => applied.has(name));
  } catch {
    return false; // no migrations table yet: a new database
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations with Prisma's own `migrate deploy` (through the WebAssembly
 * schema engine configured in prisma.config.ts). Output is passed back only on failure.
 */
export async function applyMigrations(databaseUrl: string): Promise<void> {
  if (await upToDate(databaseUrl)) return;
  const cli = require.resolve("prisma/build/index.js", { paths: [ROOT] });
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, "migrate", "deploy"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `prisma migrate deploy failed (exit ${code}):\n${output.replaceAll(databaseUrl, "<DATABASE_URL>")}`,
          ),
        );
    });
  });
}
