"use strict";
// PostgreSQL side of the schema-engine shim (see schema-engine.cjs): the driver adapter the
// WebAssembly engine runs its SQL through, and the few database-level operations (connect check,
// create/drop database, shadow database) that the native engine does itself but the Wasm engine
// leaves to its host.

const { randomBytes } = require("node:crypto");
const path = require("node:path");
const { PrismaPg } = require("@prisma/adapter-pg");
const { bindMigrationAwareSqlAdapterFactory } = require("@prisma/driver-adapter-utils");
// The pg copy adapter-pg itself loads: PrismaPg only treats a pool as "external" if it passes
// its `instanceof pg.Pool` check, so we must build pools with the very same module.
const pg = require(require.resolve("pg", { paths: [path.dirname(require.resolve("@prisma/adapter-pg"))] }));

// adapter-pg throws UnsupportedNativeDataType for system types it has no mapping for, and the
// engine's catalog queries return "char" columns (pg_class.relkind and the like): without this,
// `migrate dev`/`db pull` fail with "Column type 'char' could not be deserialized". pg has
// already parsed the values as strings, so relabel those columns as text (oid 25).
const OID_TEXT = 25;
const RELABEL_AS_TEXT = new Set([18 /* "char" */]);

function relabel(result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const f of r?.fields ?? []) if (RELABEL_AS_TEXT.has(f.dataTypeID)) f.dataTypeID = OID_TEXT;
  }
  return result;
}

// PostgreSQL 18 records NOT NULL as pg_constraint rows of type 'n'. The engine's check-constraint
// query excludes only p/u/f, and the wasm engine panics on the unknown type; NOT NULL is already
// read from pg_attribute, so leave 'n' out of that query.
const CONSTRAINT_FILTER = "contype NOT IN ('p', 'u', 'f')";
function forThisServer(config) {
  if (typeof config === "string" && config.includes(CONSTRAINT_FILTER)) {
    return config.replace(CONSTRAINT_FILTER, "contype NOT IN ('p', 'u', 'f', 'n')");
  }
  if (config && typeof config.text === "string" && config.text.includes(CONSTRAINT_FILTER)) {
    return { ...config, text: forThisServer(config.text) };
  }
  return config;
}

// Hooked into every pool via pg's `Client` option, so pool.query and transaction clients
// (pool.connect) are both covered. pg-pool calls query with a callback, adapter transactions
// without one; handle both.
class CatalogFriendlyClient extends pg.Client {
  query(config, values, callback) {
    if (config && typeof config.submit === "function") return super.query(config, values, callback);
    if (typeof values === "function") [callback, values] = [values, undefined];
    config = forThisServer(config);
    if (callback) return super.query(config, values, (err, res) => callback(err, err ? res : relabel(res)));
    return super.query(config, values).then(relabel);
  }
}

function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = "/" + encodeURIComponent(database);
  return u.toString();
}

function databaseName(url) {
  return decodeURIComponent(new URL(url).pathname.slice(1)) || "postgres";
}

const quoteIdent = (name) => '"' + name.replace(/"/g, '""') + '"';

// Every pool we open, so shutdown can close whatever the engine did not dispose.
const openPools = new Set();

function newPool(url) {
  // allowExitOnIdle: an idle pool must never be what keeps this process (and so the CLI) alive.
  const pool = new pg.Pool({ connectionString: url, Client: CatalogFriendlyClient, allowExitOnIdle: true });
  pool.on("error", () => {}); // idle-client errors surface on the next query instead
  openPools.add(pool);
  const end = pool.end.bind(pool);
  pool.end = () => (openPools.delete(pool), end());
  return pool;
}

// One adapter over a fresh pool. `onDispose` runs after the pool is closed.
async function connectAdapter(url, onDispose) {
  let schema; // Prisma-style ?schema=… selects the schema the engine works in
  try {
    schema = new URL(url).searchParams.get("schema") ?? undefined;
  } catch {
    // not a WHATWG-parsable URL: leave it to pg, which reports a proper error
  }
  const adapter = await new PrismaPg(newPool(url), { schema, disposeExternalPool: true }).connect();
  // adapter-pg's executeScript splits the script on every ";" (breaking function bodies and
  // string literals that contain one). Like the native engine, send the script as one simple
  // query: PostgreSQL runs the statements in order, in one implicit transaction.
  adapter.executeScript = async (script) => {
    try {
      await adapter.client.query(script);
    } catch (e) {
      adapter.onError(e);
    }
  };
  if (onDispose) {
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => (await dispose(), await onDispose());
  }
  return adapter;
}

// Run a few admin statements on a short-lived single connection.
async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

// Temporary shadow databases not yet dropped: shutdown drops the leftovers.
const shadowDbs = new Set();

async function dropShadowDb(mainUrl, name) {
  if (!shadowDbs.delete(name)) return;
  // FORCE (PostgreSQL 13+): the engine may still hold a connection when it disposes the adapter.
  await withClient(mainUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

// The factory the Wasm engine calls for the main and the shadow database.
// We do not use PrismaPg.connectToShadowDb(): it spreads `{ database }` over a config holding
// a connectionString, and pg lets the connection string win, so it silently "shadows" into the
// main database. Instead create a uniquely named database (the role needs CREATEDB) and drop it
// when the engine disposes it, or at shutdown. A configured shadowDatabaseUrl is emptied and used.
function adapterFactory({ url, shadowDatabaseUrl }) {
  return bindMigrationAwareSqlAdapterFactory({
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    async connect() {
      // Without this, pg would quietly try localhost:5432 and report that as unreachable.
      if (!url) throw new Error("No database URL: set DATABASE_URL (read by prisma.config.ts).");
      return connectAdapter(url);
    },
    async connectToShadowDb() {
      if (shadowDatabaseUrl) {
        // Like the native engine, start from an empty schema: the previous run may have left
        // half-replayed migrations behind, and the Wasm engine does not reset it itself.
        const schema = quoteIdent(new URL(shadowDatabaseUrl).searchParams.get("schema") ?? "public");
        await withClient(shadowDatabaseUrl, (c) =>
          c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`),
        );
        return connectAdapter(shadowDatabaseUrl);
      }
      const name = `prisma_shadow_${process.pid}_${randomBytes(4).toString("hex")}`;
      await withClient(url, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`)).catch((e) => {
        throw new Error(
          "Prisma Migrate could not create the shadow database. Give the database user the CREATEDB " +
            `privilege, or set datasource.shadowDatabaseUrl in prisma.config.ts.\n\nOriginal error: ${e.message}`,
        );
      });
      shadowDbs.add(name);
      return connectAdapter(withDatabase(url, name), () => dropShadowDb(url, name));
    },
  });
}

async function closeAll(mainUrl) {
  await Promise.allSettled([...openPools].map((p) => p.end()));
  await Promise.allSettled([...shadowDbs].map((name) => dropShadowDb(mainUrl, name)));
}

// ---- one-shot `cli …` commands ------------------------------------------------------------

// The error codes the CLI acts on (P1003 makes `migrate dev` offer to create the database).
function userFacingError(err, url) {
  const u = new URL(url);
  const at = `${u.hostname}:${u.port || 5432}`;
  if (err.code === "3D000")
    return {
      error_code: "P1003",
      message: `Database \`${databaseName(url)}\` does not exist on the database server at \`${at}\`.`,
    };
  if (err.code === "28P01" || err.code === "28000")
    return {
      error_code: "P1000",
      message: `Authentication failed against database server at \`${at}\`: ${err.message}`,
    };
  if (["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH"].includes(err.code))
    return { error_code: "P1001", message: `Can't reach database server at \`${at}\`` };
  return { message: err.message };
}

const canConnect = (url) => withClient(url, (c) => c.query("SELECT 1"));

// CREATE/DROP DATABASE must run from another database: use the server's `postgres` database.
async function createDatabase(url) {
  const name = databaseName(url);
  await withClient(withDatabase(url, "postgres"), (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return name;
}

async function dropDatabase(url) {
  const name = databaseName(url);
  await withClient(withDatabase(url, "postgres"), (c) =>
    c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  );
  return name;
}

module.exports = { adapterFactory, closeAll, canConnect, createDatabase, dropDatabase, userFacingError };
