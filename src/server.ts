// First: V8 flags must be set before Prisma compiles its WebAssembly.
import "./v8-flags";
import { ConfigError, loadConfig, readDotenv } from "./config";
import { exitInOrder } from "./lifecycle";
import { createLogger } from "./logger";
import { startRuntime, type RunningApp } from "./runtime";

/**
 * `npm start`: refuses to start on bad configuration, naming every problem at once (a real
 * PostgreSQL included: production does not run on the embedded one unless told to); then serves
 * until a signal or a programmer error stops it in order (src/lifecycle.ts).
 */
export async function main(): Promise<RunningApp> {
  let config;
  try {
    // Production rules: bootstrap API keys long enough not to be guessed, a real PostgreSQL.
    config = loadConfig(readDotenv(), { strict: true, production: true });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Cannot start: ${err.message}\nSee .env.example for every setting.\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const lifecycle = exitInOrder(log);
  if (!config.DATABASE_URL) log.warn("EMBEDDED_DB=1: running on the embedded PostgreSQL (a beta build, for trials)");
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
