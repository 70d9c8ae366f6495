import { spawnSync } from "node:child_process";
import path from "node:path";

/**
 * The command-line tools as an operator runs them: compiled JavaScript from dist/ (what
 * `npm run api-key` and `npm run bulk` start). A broken build or an import that fails at start-up
 * shows here, which the tests running the TypeScript sources would not see.
 */
const ROOT = path.resolve(__dirname, "..");

beforeAll(() => {
  // Builds dist/ when it is missing or older than the sources, as `npm run api-key` does.
  const built = spawnSync(process.execPath, ["scripts/ensure-built.cjs"], { cwd: ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`the build failed:\n${built.stderr}${built.stdout}`);
}, 600_000);

const run = (tool: string, ...args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, "dist", "cli", tool), ...args], { cwd: ROOT, encoding: "utf8" });

it.each([
  ["api-key.js", /npm run api-key -- create --name <name>/],
  ["bulk.js", /npm run bulk/],
])("%s --help prints its usage and exits 0", (tool, usage) => {
  const result = run(tool, "--help");
  expect(result.stderr).toBe("");
  expect(result.stdout).toMatch(usage);
  expect(result.status).toBe(0);
});

it("api-key with an unknown command says so, shows the usage and exits 2", () => {
  const result = run("api-key.js", "frobnicate");
  expect(result.stderr).toContain('Unknown command "frobnicate"');
  expect(result.stderr).toContain("Usage:");
  expect(result.status).toBe(2);
});
