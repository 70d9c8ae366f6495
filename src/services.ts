import crypto from "node:crypto";
import type { Logger } from "pino";
import { AuditLog } from "./audit/log";
import { AuditTrail } from "./audit/trail";
import { CalendarNames } from "./locations/calendar-names";
import { ApiKeyService } from "./auth/api-keys";
import { AccessPolicy } from "./auth/scope";
import { BlockPlanService } from "./block-plans/service";
import { PlanTargets } from "./block-plans/targets";
import { PlanWorker } from "./block-plans/worker";
import { BlockLedger } from "./block-slots/ledger";
import { AuthThrottle, type ThrottleOptions } from "./auth/throttle";
import { BlockSlotService } from "./block-slots/service";
import { BulkService } from "./bulk/service";
import { BulkWorker } from "./bulk/worker";
import { ConsoleSessions } from "./console/session";
import type { Config } from "./config";
import type { Db } from "./db/client";
import { createHighLevelHttp } from "./highlevel/http";
import { IdempotencyStore } from "./http/idempotency";
import { JobQueue } from "./jobs/queue";
import { AppointmentMirror } from "./rules/mirror";
import { BlockingRuleService } from "./rules/service";
import { WebhookInbox } from "./webhooks/inbox";
import { lifecycleHandlers } from "./webhooks/lifecycle";
import { WebhookProcessor } from "./webhooks/processor";
import { loadWebhookKeys } from "./webhooks/signature";
import { HighLevelCalendars } from "./highlevel/calendars";
import { HighLevelLocations } from "./highlevel/locations";
import { RateLimitPacer } from "./highlevel/pacer";
import { createRateBudgetPool, RateBudget } from "./highlevel/rate-budget";
import { LocationDirectory } from "./locations/directory";
import { AppMetrics } from "./metrics/metrics";
import { BucketRecorder } from "./metrics/buckets";
import { QueueSampler } from "./metrics/queue";
import { HighLevelOAuth } from "./highlevel/oauth";
import { Housekeeping } from "./housekeeping/housekeeping";
import { purgeTasks } from "./housekeeping/tasks";
import { InstallDiscovery } from "./install/discovery";
import { LocationMintWorker } from "./install/mint-worker";
import { InstallProgress } from "./install/progress";
import { InstallRecords } from "./install/records";
import { InstallService } from "./install/service";
import { LocationDetailsWorker } from "./locations/details-worker";
import { locationEventHandlers } from "./webhooks/location-events";
import { DbStateStore } from "./install/state-store";
import { SsoReplayGuard } from "./sso/replay-guard";
import { parseKeyring, TokenCipher } from "./tokens/crypto";
import { TokenResealer } from "./tokens/reseal";
import { ChangeListener } from "./db/change-listener";
import { TokenRefresher } from "./tokens/refresher";
import { TokenService } from "./tokens/service";
import { TokenStore } from "./tokens/store";

/** Every long-lived part of the app, wired once from configuration. */
export interface Services {
  config: Config;
  db: Db;
  log: Logger;
  oauth: HighLevelOAuth;
  calendars: HighLevelCalendars;
  /** Every call made with a location's or an agency's token waits here for the shared rate limit. */
  pacer: RateLimitPacer;
  /** Names and time zones of the locations, from HighLevel. */
  locations: LocationDirectory;
  blockSlots: BlockSlotService;
  calendarNames: CalendarNames;
  tokens: TokenStore;
  /** Stored tokens by encryption key: counted at start (key rotation, DECISIONS #51). */
  tokenKeys: TokenResealer;
  tokenService: TokenService;
  /** Started by the runtime: keeps the caches of tokens, keys and scopes in step with other processes. */
  changes: ChangeListener;
  refresher: TokenRefresher;
  installs: InstallService;
  /** What an install's progress page shows. */
  installProgress: InstallProgress;
  /** Queued work of agency installs: token mints, listings of locations, reads of names and time zones. */
  mintWorker: LocationMintWorker;
  discovery: InstallDiscovery;
  detailsWorker: LocationDetailsWorker;
  stateStore: DbStateStore;
  apiKeys: ApiKeyService;
  access: AccessPolicy;
  /** The audit trail: every change the app made in HighLevel or to its own configuration. */
  audit: AuditLog;
  auditTrail: AuditTrail;
  /** Failed authentication per client address; `purge()` drops ended windows (housekeeping). */
  authThrottle: AuthThrottle;
  /** SSO payloads already used; `purge()` drops old ones (housekeeping). */
  ssoReplays: SsoReplayGuard;
  /** Console sign-ins, kept server-side; `purge()` drops expired ones (housekeeping). */
  consoleSessions: ConsoleSessions;
  idempotency: IdempotencyStore;
  queue: JobQueue;
  bulk: BulkService;
  bulkWorker: BulkWorker;
  rules: BlockingRuleService;
  plans: BlockPlanService;
  planWorker: PlanWorker;
  inbox: WebhookInbox;
  webhooks: WebhookProcessor;
  /** Started by the runtime: purges what is no longer needed, one process at a time. */
  housekeeping: Housekeeping;
  /** This app's Prometheus series (GET /metrics); also where the dashboard's counts come from. */
  metrics: AppMetrics;
  /** The dashboard's counts, written to PostgreSQL every few seconds (started by the runtime; `stop()` flushes). */
  buckets: BucketRecorder;
  /** Samples the queue's depth for the dashboard, once a minute across all processes (started by the runtime). */
  queueSampler: QueueSampler;
  /** Server secret for signed session cookies (derived from the primary token encryption key). */
  sessionSecret: Buffer;
  /** Starts the queue (and, with WORKER_CONCURRENCY > 0, works it); `stopJobs` lets running jobs finish. */
  startJobs(): Promise<void>;
  stopJobs(): Promise<void>;
  /** Stops the jobs, then closes the connections to HighLevel: the last step of a shutdown. */
  close(): Promise<void>;
}

/** Tuning fixed in code; tests shorten it. */
export interface ServiceOptions {
  authThrottle?: ThrottleOptions;
}

/** `databaseUrl`: the database `db` uses (the queue keeps its own small pool on it). */
export function createServices(
  config: Config,
  db: Db,
  log: Logger,
  databaseUrl: string,
  options: ServiceOptions = {},
): Services {
  // 10 s per call: the token service makes at most three calls under a row lock (45 s budget).
  const metrics = new AppMetrics({ enabled: config.METRICS === "on" });
  metrics.collectFrom(db, log);
  const buckets = new BucketRecorder(db, log);
  metrics.recordTo(buckets);
  const http = createHighLevelHttp({
    baseUrl: config.HIGHLEVEL_API_URL,
    timeoutMs: 10_000,
    onAnswer: (operation, status, seconds) => metrics.highLevelAnswered(operation, status, seconds),
  });
  // One pacer for every call made with a location's token (or an agency's), whatever the endpoint;
  // its budget is shared with every other process through PostgreSQL.
  // Set when a stop begins (its first step stops the jobs).
  let stopping = false;
  const ratePool = createRateBudgetPool(databaseUrl, log, () => stopping);
  const pacer = new RateLimitPacer(
    new RateBudget(ratePool, {
      perWindow: config.HIGHLEVEL_BURST_LIMIT,
      windowMs: config.HIGHLEVEL_BURST_WINDOW_MS,
      daily: config.HIGHLEVEL_DAILY_LIMIT,
    }),
    { log, onWait: () => metrics.rateLimitWaited() },
  );
  const oauth = new HighLevelOAuth(
    http,
    { clientId: config.HIGHLEVEL_CLIENT_ID, clientSecret: config.HIGHLEVEL_CLIENT_SECRET },
    pacer,
  );
  const cipher = TokenCipher.fromConfig(config.TOKEN_ENCRYPTION_KEY);
  const tokens = new TokenStore(db, cipher);
  const tokenKeys = new TokenResealer(db, cipher);
  const tokenService = new TokenService(db, tokens, oauth, log, {
    installUrl: `${config.APP_BASE_URL}/oauth/install`,
    onRenewal: (owner, outcome) => metrics.tokenRenewed(owner, outcome),
  });
  const changes = new ChangeListener(databaseUrl, log);
  const refresher = new TokenRefresher(db, tokenService, log, { giveUpAfterDays: config.REFRESH_GIVE_UP_DAYS });
  const calendars = new HighLevelCalendars(http, pacer);
  const locations = new LocationDirectory(db, tokenService, new HighLevelLocations(http, pacer), log);
  const audit = new AuditLog(db, log);
  const calendarNames = new CalendarNames(db, log);
  const blockSlots = new BlockSlotService(
    tokenService,
    calendars,
    new BlockLedger(db, audit),
    audit,
    calendarNames,
    (origin) => metrics.blockCreated(origin),
  );
  // The console names a calendar never listed before by listing its location's calendars once.
  calendarNames.learnFrom((locationId) => blockSlots.calendars(locationId));
  const access = new AccessPolicy(db);
  const apiKeys = new ApiKeyService(db, config.API_KEYS, audit);
  // Each cache lives long while notified of changes, and drops a row the moment it changes.
  for (const cache of [tokenService, access, apiKeys]) cache.listenForChanges(changes);
  changes.subscribe("token_changes", tokenService);
  changes.subscribe("token_changes", access);
  changes.subscribe("api_key_changes", apiKeys);
  const queue = new JobQueue(databaseUrl, log, { timeoutSeconds: config.JOB_TIMEOUT_SECONDS });
  const records = new InstallRecords(db, queue);
  const installs = new InstallService(db, tokens, records, locations, log, audit);
  const mintWorker = new LocationMintWorker(
    db,
    tokenService,
    tokens,
    oauth,
    records,
    queue,
    log,
    config.JOB_TIMEOUT_SECONDS,
  );
  const discovery = new InstallDiscovery(db, tokenService, oauth, records, queue, log);
  const detailsWorker = new LocationDetailsWorker(db, locations, queue, log);
  const bulkWorker = new BulkWorker(db, blockSlots, queue, log, config.JOB_TIMEOUT_SECONDS);
  // Fetch loops of up to 50 jobs each; a loop waits at least 0.5 s between fetches (pg-boss).
  const loops = Math.ceil(config.WORKER_CONCURRENCY / 50);
  const batchSize = loops > 0 ? Math.ceil(config.WORKER_CONCURRENCY / loops) : 0;
  const planWorker = new PlanWorker(db, blockSlots, queue, log, config.JOB_TIMEOUT_SECONDS);
  const plans = new BlockPlanService(db, queue, new PlanTargets(db, access, blockSlots, locations), blockSlots, audit);
  const mirror = new AppointmentMirror(db, blockSlots, log);
  const webhooks = new WebhookProcessor(
    db,
    queue,
    {
      ...lifecycleHandlers({ db, records, tokens: tokenService, audit }),
      ...locationEventHandlers({ db, directory: locations }),
      ...mirror.handlers(),
    },
    log,
    [(events) => mirror.settleUnwatched(events)],
    (type, outcome, lagSeconds) => metrics.webhookWorked(type, outcome, lagSeconds),
  );
  const sessionSecret = crypto
    .createHash("sha256")
    .update("sessions")
    .update(parseKeyring(config.TOKEN_ENCRYPTION_KEY).primary.key)
    .digest();
  const inbox = new WebhookInbox(
    db,
    queue,
    loadWebhookKeys({
      ed25519: config.HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY,
      rsa: config.HIGHLEVEL_WEBHOOK_PUBLIC_KEY,
    }),
    log,
  );
  const stateStore = new DbStateStore(db);
  const idempotency = new IdempotencyStore(db);
  const authThrottle = new AuthThrottle(db, options.authThrottle);
  const ssoReplays = new SsoReplayGuard(db);
  const consoleSessions = new ConsoleSessions(db, {
    secret: sessionSecret,
    baseUrl: config.APP_BASE_URL,
    bootstrapKeys: config.API_KEYS.map((k) => k.key),
  });
  const housekeeping = new Housekeeping(
    databaseUrl,
    purgeTasks({ config, db, idempotency, stateStore, authThrottle, ssoReplays, consoleSessions }),
    log,
  );
  return {
    config,
    db,
    log,
    oauth,
    calendars,
    pacer,
    locations,
    blockSlots,
    calendarNames,
    tokens,
    tokenKeys,
    tokenService,
    changes,
    refresher,
    installs,
    installProgress: new InstallProgress(db),
    mintWorker,
    discovery,
    detailsWorker,
    stateStore,
    apiKeys,
    access,
    audit,
    auditTrail: new AuditTrail(db),
    authThrottle,
    ssoReplays,
    consoleSessions,
    idempotency,
    queue,
    bulk: new BulkService(db, queue, access),
    bulkWorker,
    rules: new BlockingRuleService(db, access, async (id) => (await blockSlots.calendars(id)).map((c) => c.id), audit),
    plans,
    planWorker,
    inbox,
    webhooks,
    housekeeping,
    metrics,
    buckets,
    queueSampler: new QueueSampler(db, buckets, log),
    sessionSecret,
    async startJobs() {
      await queue.start();
      if (loops > 0) {
        await bulkWorker.start({ loops, batchSize });
        await planWorker.start({ loops, batchSize });
        // Deliveries are light (a few queries each): bigger batches, or a burst would drain at 40/s.
        await webhooks.start({ loops: 1, batchSize: 100 });
        // Mints wait on the agency's rate limit, not on this process: one loop of a few is enough.
        await mintWorker.start({ loops: 1, batchSize: 100 });
        await discovery.start({ loops: 1, batchSize: 5 });
        await detailsWorker.start({ loops: 1, batchSize: 50 });
      }
    },
    stopJobs: () => {
      stopping = true;
      return queue.stop();
    },
    async close() {
      await housekeeping.stop();
      // Before the pools close: what was counted since the last flush (the runtime flushed already).
      await buckets.stop();
      await changes.stop();
      await queue.stop();
      // After the jobs: a running job may still be talking to HighLevel.
      await http.close();
      // Leased calls go back while the pool is open: the other processes can spend them at once.
      await pacer.close();
      await ratePool.end();
    },
  };
}
