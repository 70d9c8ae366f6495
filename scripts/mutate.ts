/**
 * `npm run mutate -- <module> [stryker options]`: mutation testing of one module (see
 * stryker.config.mjs for the modules and their tests, docs/TESTING.md for the scores).
 *
 * Stryker runs jest once per mutant, and jest's global set-up would start a PostgreSQL server and
 * rebuild the template database every time, in two test processes at once. Here the server and
 * template are made once, and the runs find them through the environment.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import globalSetup from "../test/support/global-setup";
import globalTeardown from "../test/support/global-teardown";

const ROOT = path.resolve(__dirname, "..");

async function main(): Promise<number> {
  const [target, ...rest] = process.argv.slice(2);
  if (!target || target.startsWith("-")) {
    process.stderr.write("Usage: npm run mutate -- src/bulk/worker.ts [--force]\n");
    return 2;
  }
  // A file of a group (src/auth/scope.ts) runs its group (src/auth/*.ts).
  const file = path.relative(ROOT, path.resolve(target)).split(path.sep).join("/");
  const { MODULES } = (await import(path.join(ROOT, "stryker.config.mjs"))) as { MODULES: Record<string, string[]> };
  const inGroup = (key: string) => key.endsWith("/*.ts") && path.posix.dirname(key) === path.posix.dirname(file);
  const module = Object.keys(MODULES).find((key) => key === file || key === target || inGroup(key));
  if (!module) {
    process.stderr.write(
      `No tests are set for ${file} in stryker.config.mjs; known: ${Object.keys(MODULES).join(", ")}\n`,
    );
    return 2;
  }
  await globalSetup();
  try {
    const core = path.dirname(require.resolve("@stryker-mutator/core/package.json"));
    const stryker = path.join(core, "bin", "stryker.js");
    const child = spawn(process.execPath, [stryker, "run", "stryker.config.mjs", ...rest], {
      cwd: ROOT,
      env: { ...process.env, MUTATE: module },
      stdio: "inherit",
    });
    const stop = () => child.kill("SIGINT");
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return await new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  } finally {
    await globalTeardown();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
