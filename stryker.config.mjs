// Mutation testing of the modules that keep the product's promises (docs/TESTING.md).
// Run one module at a time: `npm run mutate -- src/bulk/worker.ts` (scripts/mutate.ts starts the
// database once and sets MUTATE). Not part of CI.

/**
 * Each module (or group) and the test files that stand for it: a mutant runs only those of them
 * that reach its code.
 */
export const MODULES = {
  "src/tokens/service.ts": ["token-service", "token-refresh", "token-retries", "token-minting", "change-notifications"],
  "src/block-slots/service.ts": [
    "block-slot-outcomes",
    "block-slots",
    "block-slot-retries",
    "block-slot-matching",
    "block-slot-safety",
    "block-ledger",
    "block-plan-worker",
  ],
  "src/webhooks/signature.ts": ["webhook-signature"],
  "src/auth/*.ts": [
    "api-keys",
    "tenant-scope",
    "change-notifications",
    "auth-throttle",
    "auth-client-key",
    "session-cookie",
  ],
  "src/http/idempotency.ts": ["idempotency-key", "idempotency"],
  "src/bulk/worker.ts": ["bulk-worker", "bulk"],
  "src/block-slots/ledger.ts": ["block-ledger", "appointments"],
  "src/block-plans/schedule.ts": ["block-plan-schedule", "block-plan-times"],
  "src/block-plans/planner.ts": ["block-plan-expand", "block-plans", "block-plan-times"],
  "src/block-plans/worker.ts": ["block-plan-worker", "block-plan-worker-failures", "block-plans"],
};

const target = process.env.MUTATE;
// MUTATE_TESTS=a,b runs the module against those test files only: a quicker lower bound (a
// mutant the listed files miss may be killed by another), e.g. the pure tests of a module.
const only = process.env.MUTATE_TESTS?.split(",").filter(Boolean);
const tests = target ? (only ?? MODULES[target] ?? []) : [];
// Unset when scripts/mutate.ts reads MODULES; set to a known key when Stryker runs.
if (target !== undefined && tests.length === 0) {
  throw new Error(`MUTATE must name one of: ${Object.keys(MODULES).join(", ")} (got ${target})`);
}
const name = (target ?? "none")
  .replace(/^src\//, "")
  .replace(/\.ts$/, "")
  .replace(/\*/g, "all")
  .replace(/\//g, "-")
  .concat(only ? `.only-${only.join("+")}` : "");

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: target ? [target] : [],
  testRunner: "jest",
  jest: {
    projectType: "custom",
    configFile: "jest.config.js",
    config: { testMatch: tests.map((t) => `<rootDir>/test/${t}.test.ts`) },
    enableFindRelatedTests: false,
  },
  // Each mutant runs only the tests that executed its code in the first, instrumented run.
  coverageAnalysis: "perTest",
  // Mutants that would not compile are dropped before any test runs.
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // Two cores, shared: never more than two test processes.
  concurrency: 2,
  // A mutant that makes a test wait (a lease never released, a job never finished) is a kill by time-out.
  timeoutMS: 30_000,
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
