#!/usr/bin/env node
"use strict";
// Stand-in for Prisma's native `schema-engine` binary, which the Prisma CLI downloads from
// binaries.prisma.sh, a host these machines cannot reach. prisma.config.ts points
// PRISMA_SCHEMA_ENGINE_BINARY here, so the CLI spawns this script instead and speaks the
// binary's protocol to it. We answer with Prisma's official WebAssembly build of the same
// engine (@prisma/schema-engine-wasm, same engine commit as the CLI), which reaches
// PostgreSQL through @prisma/adapter-pg (see postgres.cjs). Background: docs/DECISIONS.md.
//
// Protocol, as spoken by node_modules/prisma/build/cli.js:
//   schema-engine --version                          -> one version line on stdout
//   schema-engine --datasource JSON cli <command>    -> one-shot; errors as JSON log lines on stderr
//   schema-engine [--datamodels PATH]… [--datasource JSON]
//       -> JSON-RPC 2.0, one object per line on stdin/stdout; stderr carries JSON log records.

const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");
const { pathToFileURL } = require("node:url");
const db = require("./postgres.cjs");

const wasmDir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
const wasmVersion = JSON.parse(fs.readFileSync(path.join(wasmDir, "package.json"), "utf8")).version;

// ---- arguments ------------------------------------------------------------------------------

function parseArgs(argv) {
  const args = { datamodels: [], datasource: {}, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--datamodels") args.datamodels.push(argv[++i]);
    else if (a === "--datasource") args.datasource = JSON.parse(argv[++i]);
    else if (a === "--enabled-preview-features" || a === "--extension-types")
      i++; // not used by the Wasm engine
    else args.rest.push(a);
  }
  // prisma.config.ts passes "" when DATABASE_URL is unset; the environment is the fallback.
  args.url = args.datasource.url || process.env.DATABASE_URL || "";
  return args;
}

// The CLI reads stderr as JSON log records shaped like the native engine's tracing output.
function log(level, message, extra = {}) {
  process.stderr.write(
    JSON.stringify({ level, fields: { message, ...extra }, target: "schema_engine::logger" }) + "\n",
  );
}

// ---- one-shot `cli` commands ----------------------------------------------------------------

async function runCliCommand(args, command) {
  // The CLI skips the first stderr line before parsing the rest as JSON records.
  log("INFO", `Starting schema engine CLI (wasm ${wasmVersion})`);
  try {
    if (!args.url) throw new Error("No datasource URL: pass --datasource or set DATABASE_URL");
    if (command === "can-connect-to-database") await db.canConnect(args.url);
    else if (command === "create-database")
      log("INFO", `Database '${await db.createDatabase(args.url)}' was successfully created.`);
    else if (command === "drop-database")
      log("INFO", `The database '${await db.dropDatabase(args.url)}' was successfully dropped.`);
    else throw new Error(`Unknown cli command: ${command}`);
    return 0;
  } catch (e) {
    const { message, error_code } = args.url ? db.userFacingError(e, args.url) : { message: e.message };
    log("ERROR", message, error_code ? { error_code } : {});
    return 1;
  }
}

// ---- the Wasm engine ------------------------------------------------------------------------

// wasm-bindgen's panic hook reports the panic message through this global (the CLI defines the
// same one); without it a Rust panic would surface as an unrelated TypeError.
const panicRegistry = (globalThis.PRISMA_WASM_PANIC_REGISTRY = {
  message: "",
  set_message(m) {
    this.message = `RuntimeError: ${m}`;
  },
  get() {
    return this.message;
  },
});

// The package is built for bundlers (`import … from "./x.wasm"`), which Node cannot load, so
// instantiate the .wasm by hand against its JS glue, as Prisma's own loader does. The glue
// keeps module-level state: exactly one engine per process (a second instance crashes).
async function startEngine(args, factory) {
  const glue = await import(pathToFileURL(path.join(wasmDir, "schema_engine_bg.js")).href);
  const module = new WebAssembly.Module(fs.readFileSync(path.join(wasmDir, "schema_engine_bg.wasm")));
  const instance = new WebAssembly.Instance(module, { "./schema_engine_bg.js": glue });
  glue.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  const datamodels = args.datamodels.map((p) => [p, fs.readFileSync(p, "utf8")]);
  // The engine's log callback already yields records in the native stderr format; pass them on.
  const onLog = (line) => process.stderr.write(String(line).trimEnd() + "\n");
  return glue.SchemaEngine.new({ datamodels: datamodels.length ? datamodels : undefined }, onLog, factory);
}

// Turn an engine (or adapter) failure into the JSON-RPC error body the CLI understands.
function toRpcError(e, factory) {
  const data = { is_panic: false, message: String(e?.message ?? e) };
  if (e?.name === "RuntimeError") {
    // A Rust panic: the CLI shows error.message and offers to report data.message as the trace.
    const panic = panicRegistry.get() || data.message;
    return { code: 4466, message: panic, data: { is_panic: true, message: `${panic}\n${e.stack}` } };
  }
  if (e?.code) {
    data.error_code = e.code; // user-facing Pxxxx error
    data.meta = e.meta ?? null;
  }
  // Plain JavaScript errors thrown in the adapter are parked in its registry and reach us as
  // "External error id#N": show the original message instead.
  const id = /External error id#(\d+)/.exec(data.message)?.[1];
  const original = id !== undefined && factory.errorRegistry.consumeError(Number(id));
  if (original) data.message = String(original.error?.message ?? original.error);
  return { code: 4466, message: "An error happened. Check the data field for details.", data };
}

// Engine methods the CLI may call under their own name (see schema_engine.d.ts).
const PASSTHROUGH = new Set([
  "applyMigrations",
  "dbExecute",
  "devDiagnostic",
  "diagnoseMigrationHistory",
  "ensureConnectionValidity",
  "introspect",
  "introspectSql",
  "markMigrationApplied",
  "markMigrationRolledBack",
  "reset",
  "schemaPush",
]);

async function serveJsonRpc(args) {
  const factory = db.adapterFactory({ url: args.url, shadowDatabaseUrl: args.datasource.shadowDatabaseUrl });
  let engine; // created on the first request, so a CLI that only peeks at us stays cheap
  const send = (msg) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...msg }) + "\n");

  // Requests from us to the CLI (only `print`), answered on stdin.
  let nextId = 1;
  const awaiting = new Map();
  const askCli = (method, params) =>
    new Promise((resolve) => {
      const id = nextId++;
      awaiting.set(id, resolve);
      send({ id, method, params });
    });

  // evaluateDataLoss/createMigration need the schema the migration history produces. The Wasm
  // engine only has it cached after devDiagnostic, and applying migrations drops the cache (so
  // `migrate dev` on a fresh database fails with this error). Rebuild it through the
  // shadow-database factory with devDiagnostic, then retry once.
  const withHistory = (method) => async (p) => {
    try {
      return await engine[method](p);
    } catch (e) {
      if (!/shadow DB must be provided through an external factory/.test(e?.message)) throw e;
      await engine.devDiagnostic({ migrationsList: p.migrationsList, filters: p.filters });
      return engine[method](p);
    }
  };

  // CLI method -> engine call. Method names match the engine's, with these exceptions.
  const special = {
    evaluateDataLoss: withHistory("evaluateDataLoss"),
    createMigration: withHistory("createMigration"),
    getDatabaseVersion: (p) => engine.version(p ?? null),
    createDatabase: async (p) => ({ databaseName: await db.createDatabase(p?.datasource?.url || args.url) }),
    debugPanic: async () => engine.debugPanic(),
    // The native engine hands diff output to the CLI as a `print` request instead of returning it.
    async diff(p) {
      const { stdout, exitCode } = await engine.diff(p);
      if (stdout) await askCli("print", { content: stdout.replace(/\n$/, "") });
      return { exitCode };
    },
  };

  async function handle({ id, method, params }) {
    try {
      engine ??= await startEngine(args, factory);
      let result;
      if (special[method]) result = await special[method](params);
      else if (PASSTHROUGH.has(method)) result = await engine[method](params);
      else return send({ id, error: { code: -32601, message: `Method not found: ${method}` } });
      send({ id, result: result ?? {} });
    } catch (e) {
      send({ id, error: toRpcError(e, factory) });
    }
  }

  // The engine is not re-entrant: run requests strictly one after another.
  let queue = Promise.resolve();
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on("line", (line) => {
    if (!line.trim()) return;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return log("ERROR", `Could not parse JSON-RPC message: ${line.slice(0, 200)}`);
    }
    if (msg.method === undefined) return (awaiting.get(msg.id)?.(msg.result), awaiting.delete(msg.id));
    queue = queue.then(() => handle(msg));
  });

  // The CLI ends stdin and then immediately sends SIGTERM. Either way: finish the request in
  // flight, close pools, drop a leftover shadow database and exit now, since a lingering child
  // would keep the CLI process alive too. The timer caps the cleanup if the server hangs.
  let exiting = false;
  const shutdown = () => {
    if (exiting) return;
    exiting = true;
    setTimeout(() => process.exit(0), 3000).unref();
    queue.then(() => db.closeAll(args.url)).finally(() => process.exit(0));
  };
  rl.on("close", shutdown);
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

// ---- main -----------------------------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2);
  if (argv.includes("--version")) {
    // The native binary prints "schema-engine-cli <engine commit>"; `prisma version` shows it.
    process.stdout.write(`schema-engine-cli ${wasmVersion.split(".").pop()}\n`);
    return process.exit(0);
  }
  const args = parseArgs(argv);
  if (args.rest[0] === "cli") return process.exit(await runCliCommand(args, args.rest[1]));
  await serveJsonRpc(args);
}

main().catch((e) => {
  log("ERROR", e?.stack ?? String(e));
  process.exit(1);
});
