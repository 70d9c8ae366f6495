import path from "node:path";
import { defineConfig } from "prisma/config";

// Prisma's CLI would download its native schema engine from a host these machines cannot
// reach. It honours PRISMA_SCHEMA_ENGINE_BINARY, so point it at our Node wrapper around the
// official WebAssembly engine (see docs/DECISIONS.md). Set here because this file is loaded
// before the CLI looks for the binary, so a plain `npx prisma …` works.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(__dirname, "prisma", "engine", "schema-engine.cjs");

export default defineConfig({
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  // Not env(): it throws when DATABASE_URL is unset, which would break `prisma generate` in CI.
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
