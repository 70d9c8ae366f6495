import { purgeFinishedJobs } from "../bulk/retention";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { purgeDeletedBlocks, purgeEndedAppointments } from "../rules/retention";
import { purgeWorkedDeliveries } from "../webhooks/retention";
import { daysAgo, deleteBatch } from "../db/purge";
import { Prisma } from "../generated/prisma/client";
import type { PurgeTask } from "./housekeeping";

/** How long an install's progress page stays at its address. */
export const INSTALL_PAGE_DAYS = 7;

/** A store that purges its own rows (at most `limit`; returns how many went). */
interface Purges {
  purge(limit: number): Promise<number>;
}

export interface PurgeSources {
  config: Pick<
    Config,
    "WEBHOOK_RETENTION_DAYS" | "JOB_RETENTION_DAYS" | "AUDIT_RETENTION_DAYS" | "METRICS_RETENTION_DAYS"
  >;
  db: Db;
  /** Idempotency keys (src/http/idempotency.ts). */
  idempotency: Purges;
  /** OAuth states (src/install/state-store.ts). */
  stateStore: Purges;
  /** Failed-authentication windows (src/auth/throttle.ts), SSO payloads already used, console sessions. */
  authThrottle: Purges;
  ssoReplays: Purges;
  consoleSessions: Purges;
}

/**
 * Every table that grows with use, and when its rows go. A new one is one line here: a name and
 * a function that deletes at most `limit` rows (see `deleteBatch` in src/db/purge.ts), e.g.
 * `{ name: "audit_events", purge: (n) => deleteBatch(db, "audit_events", Prisma.sql\`at < ${daysAgo(days)}\`, n) }`.
 * pg-boss's own tables are kept by pg-boss (src/jobs/queue.ts, ARCHIVE).
 */
export function purgeTasks(sources: PurgeSources): PurgeTask[] {
  const { config, db, idempotency, stateStore } = sources;
  const webhookDays = config.WEBHOOK_RETENTION_DAYS;
  const auditCutoff = () => daysAgo(config.AUDIT_RETENTION_DAYS);
  return [
    { name: "oauth_states", purge: (n) => stateStore.purge(n) },
    { name: "idempotency_keys", purge: (n) => idempotency.purge(n) },
    { name: "auth_failures", purge: (n) => sources.authThrottle.purge(n) },
    { name: "used_sso_payloads", purge: (n) => sources.ssoReplays.purge(n) },
    { name: "console_sessions", purge: (n) => sources.consoleSessions.purge(n) },
    { name: "webhook_events", purge: (n) => purgeWorkedDeliveries(db, n, webhookDays) },
    // What the app did in answer to deliveries is kept as long as the deliveries themselves.
    { name: "appointment_states", purge: (n) => purgeEndedAppointments(db, n, webhookDays) },
    { name: "mirrored_blocks", purge: (n) => purgeDeletedBlocks(db, n, webhookDays) },
    { name: "bulk_jobs", purge: (n) => purgeFinishedJobs(db, n, config.JOB_RETENTION_DAYS) },
    { name: "audit_events", purge: (n) => deleteBatch(db, "audit_events", Prisma.sql`at < ${auditCutoff()}`, n) },
    {
      name: "metric_buckets",
      purge: (n) =>
        deleteBatch(db, "metric_buckets", Prisma.sql`bucket_start < ${daysAgo(config.METRICS_RETENTION_DAYS)}`, n),
    },
    // An install's progress page lives a week (src/install/progress.ts), unless it is still connecting.
    {
      name: "installs",
      purge: (n) =>
        deleteBatch(
          db,
          "installs",
          Prisma.sql`started_at < ${daysAgo(INSTALL_PAGE_DAYS)} AND NOT EXISTS (
            SELECT 1 FROM install_locations il JOIN locations l ON l.id = il.location_id
             WHERE il.install_id = installs.id AND l.status = 'connecting')`,
          n,
        ),
    },
  ];
}
