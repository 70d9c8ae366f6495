import v8 from "node:v8";

/**
 * V8 settings for a long-running app process, applied before anything compiles WebAssembly
 * (DECISIONS #21). Each one yields to the same flag given on the node command line.
 *
 * - `--liftoff-only`: Prisma's query compiler is a large WebAssembly module. V8 would recompile
 *   its hot functions with its optimising compiler on background threads, and the memory those
 *   compilations take stays with the process: about 60 MB. The figures that use Prisma most
 *   (webhooks, bulk) were no slower with the baseline compiler alone.
 * - `--heap-growing-percent=100`: under load, V8 let the old space grow to four times what was
 *   live before it collected it; twice is enough (peak 232 → 190 MB under the create load, for
 *   the same CPU).
 *
 * The young generation's size (`--max-semi-space-size=8`) is fixed when V8 makes its heap, before
 * any of this runs, so `npm start` puts it on the command line instead (DECISIONS #41).
 */
export const V8_FLAGS = ["--liftoff-only", "--heap-growing-percent=100"];

const named = (arg: string, name: string) =>
  arg === name || arg.startsWith(`${name}=`) || arg === name.replace(/^--/, "--no-");

export function applyV8Flags(execArgv: readonly string[] = process.execArgv): string[] {
  const applied: string[] = [];
  for (const flag of V8_FLAGS) {
    const name = flag.split("=")[0]!;
    if (execArgv.some((arg) => named(arg.replaceAll("_", "-"), name))) continue;
    v8.setFlagsFromString(flag);
    applied.push(flag);
  }
  return applied;
}

applyV8Flags();
