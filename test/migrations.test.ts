import { spawnSync } from "node:child_process";
import path from "node:path";
import { createTestDatabase } from "./support/postgres";

const ROOT = path.resolve(__dirname, "..");

describe("migrations", () => {
  it("the committed migrations produce exactly prisma/schema.prisma (nobody forgot a migration)", async () => {
    const scratch = await createTestDatabase();
    try {
      const result = spawnSync(
        process.execPath,
        [
          require.resolve("prisma/build/index.js"),
          "migrate",
          "diff",
          "--from-migrations",
          "prisma/migrations",
          "--to-schema",
          "prisma/schema.prisma",
          "--exit-code",
        ],
        { cwd: ROOT, env: { ...process.env, DATABASE_URL: scratch.url }, encoding: "utf8", timeout: 60_000 },
      );
      // --exit-code: 0 = no difference, 2 = the schema has changes no migration holds.
      expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
        status: 0,
        output: expect.any(String),
      });
    } finally {
      await scratch.drop();
    }
  });
});
