import crypto from "node:crypto";
import { Client } from "pg";

/** Set by global-setup: a server where this run may create databases, and the migrated template. */
export const ADMIN_URL_ENV = "TEST_PG_ADMIN_URL";
export const TEMPLATE_DB = "app_test_template";

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withAdmin<T>(adminUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database for one test file, copied from the migrated template (milliseconds, not seconds). */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env[ADMIN_URL_ENV];
  if (!adminUrl)
    throw new Error(`${ADMIN_URL_ENV} is not set: run tests through jest (global-setup starts PostgreSQL)`);
  const name = `app_test_${crypto.randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`));
  return {
    url: databaseUrl(adminUrl, name),
    drop: () =>
      withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
