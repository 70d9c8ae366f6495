import type { Logger } from "pino";

/** Past this, a stop that has not finished is given up and the process exits anyway. */
const FORCE_AFTER_MS = 30_000;
/**
 * One Ctrl-C can arrive more than once: the terminal signals the whole process group, and
 * `npm run`/`npm start` forward their own copy to the script. A repeat this soon after the first
 * is that same key press, not a second one asking to quit at once.
 */
const SAME_PRESS_MS = 300;

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * How the server process ends. SIGTERM or SIGINT: an orderly stop, exit 0. A programmer error
 * that reached the top (an `unhandledRejection` or `uncaughtException`): logged through pino
 * first, then the same orderly stop, exit 1 — the process may be in a state nobody planned for,
 * so it does not go on serving, but what is under way still gets to finish. A second signal, or
 * a stop that overruns FORCE_AFTER_MS, exits at once.
 *
 * Installed before the app starts, so a signal during start-up stops it as soon as it is up.
 * `started()` hands over what to stop.
 */
/** PostgreSQL shutting down (57P01–57P03), or its connection gone. */
const DATABASE_GONE = new Set(["57P01", "57P02", "57P03", "ECONNREFUSED", "ECONNRESET"]);
const databaseGone = (err: unknown): boolean =>
  DATABASE_GONE.has((err as { code?: unknown } | null)?.code as string) ||
  /Connection terminated/i.test(err instanceof Error ? err.message : "");

export function exitInOrder(log: Logger, options: { forceAfterMs?: number } = {}): { started(app: Stoppable): void } {
  let app: Stoppable | undefined;
  /** Set once a stop was asked for: the code to exit with. */
  let exitCode: number | undefined;
  let running = false;
  let firstSignalAt = 0;

  const exit = (code: number): never => process.exit(code); // pino's destination flushes on "exit"
  const run = async (target: Stoppable) => {
    if (running) return;
    running = true;
    try {
      await target.stop();
      log.info({ exitCode }, "stopped");
    } catch (err) {
      log.error({ err }, "shutdown failed");
      exitCode = 1;
    }
    exit(exitCode ?? 1);
  };
  const begin = (code: number) => {
    exitCode = Math.max(exitCode ?? 0, code);
    if (running) return;
    setTimeout(() => {
      log.error("the stop took too long: exiting now");
      exit(1);
    }, options.forceAfterMs ?? FORCE_AFTER_MS).unref();
    if (app) void run(app);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt && Date.now() - firstSignalAt < SAME_PRESS_MS) return;
    firstSignalAt ||= Date.now();
    if (exitCode !== undefined) {
      log.warn({ signal }, "second signal: exiting now");
      exit(1);
    }
    log.info({ signal }, "shutting down");
    begin(0);
  };
  const onBug = (kind: string) => (err: unknown) => {
    // Once a stop is under way the database may stop with us (a terminal's Ctrl-C reaches the
    // embedded PostgreSQL too): a library's unawaited query failing then is expected, not a bug.
    if (exitCode !== undefined && databaseGone(err)) {
      log.warn({ err, kind }, "the database went away during the stop");
      return;
    }
    log.fatal({ err, kind }, "programmer error: shutting down");
    begin(1);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("unhandledRejection", onBug("unhandledRejection"));
  process.on("uncaughtException", onBug("uncaughtException"));

  return {
    started(target) {
      app = target;
      if (exitCode !== undefined) void run(target);
    },
  };
}
