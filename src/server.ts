// First: V8 flags must be set before Prisma compiles its WebAssembly.
import "./v8-flags";
import { ConfigError, loadConfig, readDotenv } from "./config";
import { createLogger } from "./logger";
import { startRuntime } from "./runtime";

/** `npm start`: refuses to start on bad configuration, naming every problem at once. */
async function main() {
  let config;
  try {
    // Strict: production rules too (bootstrap API keys long enough not to be guessed).
    config = loadConfig(readDotenv(), { strict: true });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Cannot start: ${err.message}\nSee .env.example for every setting.\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const running = await startRuntime(config, log);
  log.info({ url: running.url }, "listening");

  const shutdown = (signal: string) => {
    log.info({ signal }, "shutting down");
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`Cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
