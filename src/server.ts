// First: V8 flags must be set before Prisma compiles its WebAssembly.
import "./v8-flags";
import { ConfigError, loadConfig, readDotenv } from "./config";
import { exitInOrder } from "./lifecycle";
import { createLogger } from "./logger";
import { startRuntime, type RunningApp } from "./runtime";

/**
 * `npm start`: refuses to start on bad configuration, naming every problem at once; then serves
 * until a signal or a programmer error stops it in order (src/lifecycle.ts).
 */
export async function main(): Promise<RunningApp> {
  let config;
  try {
    config = loadConfig(readDotenv());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Cannot start: ${err.message}\nSee .env.example for every setting.\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const lifecycle = exitInOrder(log);
  const running = await startRuntime(config, log);
  lifecycle.started(running);
  log.info({ url: running.url }, "listening");
  return running;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`Cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
