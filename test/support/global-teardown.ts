import fs from "node:fs";

export default async function globalTeardown(): Promise<void> {
  const pg = (globalThis as Record<string, unknown>).__testPostgres as
    { stop(): Promise<void>; dataDir: string } | undefined;
  if (!pg) return;
  await pg.stop();
  fs.rmSync(pg.dataDir, { recursive: true, force: true });
}
