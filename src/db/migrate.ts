import { spawn } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * Applies pending migrations with Prisma's own `migrate deploy` (through the WebAssembly
 * schema engine configured in prisma.config.ts). Output is passed back only on failure.
 */
export async function applyMigrations(databaseUrl: string): Promise<void> {
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
