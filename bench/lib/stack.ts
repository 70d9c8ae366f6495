import { execFile, spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import { ensureDatabase } from "../../src/db/database";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/db/embedded";
import { startSandbox, type Sandbox, type SandboxCompany, type SandboxOptions } from "../../sandbox";
import { generateKey } from "../../src/tokens/crypto";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * The node options `npm start` gives the server (package.json), so each figure measures the process
 * production runs; a figure's own options come after them and win.
 */
export const START_NODE_ARGS: string[] = (() => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  return words.slice(words.indexOf("node") + 1, words.indexOf("dist/server.js"));
})();
export const API_KEY = "bench-api-key-0123456789abcdef-0123456789";

/** An agency with `count` sub-accounts named loc-0 … loc-{count-1}. */
export const agency = (count: number, id = "bench-agency"): SandboxCompany => ({
  id,
  name: "Bench Agency",
  locations: Array.from({ length: count }, (_, i) => ({ id: `loc-${i}`, name: `Clinic ${i}` })),
});

export interface AppProcess {
  url: string;
  child: ChildProcess;
  pid: number;
}

export interface Stack {
  sandbox: Sandbox;
  pg: EmbeddedDatabase;
  databaseUrl: string;
  env: Record<string, string>;
  apps: AppProcess[];
  /** Starts one more app process (the built server, as `npm start` runs it) on the same database. */
  startApp(extraEnv?: Record<string, string>, nodeArgs?: string[]): Promise<AppProcess>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * Waits for the app's "listening" log line and reads its URL from it. The listeners come off once
 * it is found: they would otherwise keep re-reading all later output, which took over a core of
 * the bench process (the client and the sandbox) once the app had logged tens of thousands of lines.
 */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    let errors = "";
    const onError = (c: Buffer) => (errors = (errors + c.toString()).slice(-2000));
    const onExit = (code: number | null) =>
      reject(new Error(`app exited (${code}) before listening:\n${errors.slice(-2000)}`));
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      const line = lines.find((l) => l.includes('"listening"'));
      if (!line) return;
      child.stdout!.off("data", onData);
      child.stderr!.off("data", onError);
      child.off("exit", onExit);
      resolve((JSON.parse(line) as { url: string }).url);
    };
    child.stderr!.on("data", onError);
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
  });
}

/**
 * Everything a figure needs, on this machine: an embedded PostgreSQL, the local HighLevel, and
 * `processes` app servers (the production build) sharing the database. Nothing is faked in the app.
 */
export async function startStack(
  options: {
    processes?: number;
    sandbox?: SandboxOptions;
    env?: Record<string, string>;
    /** Node flags for every app process, e.g. a heap cap. */
    nodeArgs?: string[];
  } = {},
): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-pg-"));
  fs.chmodSync(dataDir, 0o777);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "data"), persistent: false });
  await ensureDatabase(pg.adminUrl, "bench");
  const databaseUrl = pg.urlFor("bench");
  // No burst limit unless a figure asks for one: the figures measure the app, not HighLevel's limits.
  const sandbox = await startSandbox({ port: 0, rateLimit: { burst: 1e9, daily: 1e12 }, ...options.sandbox });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    DATABASE_URL: databaseUrl,
    ...sandbox.appSettings,
    TOKEN_ENCRYPTION_KEY: generateKey(),
    API_KEYS: API_KEY,
    LOG_LEVEL: "warn",
    PORT: "0",
    // Nor does the app pace itself, unless a figure sets it: installing a 1,000-location agency at
    // the real 100 per 11 s would take two minutes before every figure.
    HIGHLEVEL_BURST_LIMIT: "100000",
    ...options.env,
  };
  const apps: AppProcess[] = [];
  const startApp = async (extraEnv: Record<string, string> = {}, nodeArgs: string[] = options.nodeArgs ?? []) => {
    const child = spawn(process.execPath, [...START_NODE_ARGS, ...nodeArgs, path.join(ROOT, "dist", "server.js")], {
      cwd: ROOT,
      env: { ...env, LOG_LEVEL: "info", ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await listening(child);
    // Keep draining its output so a full pipe never stalls it.
    child.stdout.resume();
    child.stderr.resume();
    const app = { url, child, pid: child.pid! };
    apps.push(app);
    return app;
  };
  // The first applies migrations alone; the others then start side by side.
  await startApp();
  await Promise.all(Array.from({ length: (options.processes ?? 1) - 1 }, () => startApp()));

  const client = new Client({ connectionString: databaseUrl });
  // A fault run stops PostgreSQL on purpose: the bench's own connection dropping is not a crash.
  client.on("error", () => {});
  await client.connect();
  return {
    sandbox,
    pg,
    databaseUrl,
    env,
    apps,
    startApp,
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    close: async () => {
      for (const app of apps) if (app.child.exitCode === null) app.child.kill("SIGKILL");
      await client.end().catch(() => {});
      await sandbox.close();
      await pg.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The stack the fault runs share: one app process, an agency of `locations` sub-accounts, HighLevel
 * answering in 50 ms, and a short job time-out so a killed process's work comes back in seconds.
 */
export const faultStack = (locations: number) =>
  startStack({
    processes: 1,
    sandbox: { companies: [agency(locations)], latencyMs: 50 },
    env: { JOB_TIMEOUT_SECONDS: "5" },
  });

/**
 * Installs a whole agency through the app's real OAuth callback, then waits, as the install's page
 * does, until the queued mints have connected every location (or `timeoutMs` passes). Resolves
 * with the callback's latency and the time until all were connected.
 */
export async function installAgency(
  stack: Stack,
  companyId: string,
  timeoutMs = 600_000,
): Promise<{ callbackMs: number; connectedMs: number; connected: number; failed: number }> {
  const code = stack.sandbox.state.issueCode({ companyId });
  const started = performance.now();
  const res = await fetch(`${stack.apps[0]!.url}/oauth/callback?code=${encodeURIComponent(code)}`);
  const callbackMs = performance.now() - started;
  const page = await res.text();
  if (res.status !== 200) throw new Error(`install failed: HTTP ${res.status}`);
  const progress = /data-progress="([^"]+)"/.exec(page)?.[1];
  if (!progress) throw new Error("the install page names no progress address");
  for (;;) {
    const body = (await (await fetch(`${stack.apps[0]!.url}${progress}`)).json()) as {
      live: boolean;
      counts: { connected: number; failed: number };
    };
    if (!body.live)
      return {
        callbackMs,
        connectedMs: performance.now() - started,
        connected: body.counts.connected,
        failed: body.counts.failed,
      };
    if (performance.now() - started > timeoutMs)
      throw new Error(`install not finished: ${JSON.stringify(body.counts)}`);
    await sleep(250);
  }
}

export const authHeaders = { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" };

/** A company-scoped key made the way an operator makes one: `npm run api-key -- create --company`. */
export async function companyKey(stack: Stack, companyId: string, name = "bench"): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "src/cli/api-key.ts", "create", "--name", name, "--company", companyId],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? "", DATABASE_URL: stack.databaseUrl, LOG_LEVEL: "warn" } },
  );
  const key = /hlbs_[A-Za-z0-9_-]+/.exec(stdout)?.[0];
  if (!key) throw new Error(`no key in the CLI's output:\n${stdout}`);
  return key;
}

/** A distinct hour per index, so every created block is distinguishable. */
export function slotFor(i: number, locationId: string) {
  const start = Date.UTC(2031, 0, 1) + i * 3600_000;
  return {
    locationId,
    calendarId: "cal-1",
    startTime: new Date(start).toISOString(),
    endTime: new Date(start + 1800_000).toISOString(),
    title: `bench ${i} ${crypto.randomBytes(3).toString("hex")}`,
  };
}

/** Peak resident memory of a process (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** CPU time a process has used so far (user + system), in ms. */
export function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime: clock ticks of 10 ms on Linux
  return ticks * 10;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done()` or the time is up. */
export async function until(done: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await done()) return true;
    await sleep(everyMs);
  }
  return false;
}
