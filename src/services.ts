import crypto from "node:crypto";
import type { Logger } from "pino";
import { ApiKeyService } from "./auth/api-keys";
import { AccessPolicy } from "./auth/scope";
import { BlockLedger } from "./block-slots/ledger";
import { BlockSlotService } from "./block-slots/service";
import { BulkService } from "./bulk/service";
import { BulkWorker } from "./bulk/worker";
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
import { HighLevelOAuth } from "./highlevel/oauth";
import { InstallService } from "./install/service";
import { DbStateStore } from "./install/state-store";
import { parseKeyring, TokenCipher } from "./tokens/crypto";
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
  tokens: TokenStore;
  tokenService: TokenService;
  /** Started by the runtime: keeps the caches of tokens, keys and scopes in step with other processes. */
  changes: ChangeListener;
  refresher: TokenRefresher;
  installs: InstallService;
  stateStore: DbStateStore;
  apiKeys: ApiKeyService;
  access: AccessPolicy;
  idempotency: IdempotencyStore;
  queue: JobQueue;
  bulk: BulkService;
  bulkWorker: BulkWorker;
  rules: BlockingRuleService;
  inbox: WebhookInbox;
  webhooks: WebhookProcessor;
  /** Server secret for signed session cookies (derived from the primary token encryption key). */
  sessionSecret: Buffer;
  /** Starts the queue (and, with WORKER_CONCURRENCY > 0, works it); `stopJobs` lets running jobs finish. */
  startJobs(): Promise<void>;
  stopJobs(): Promise<void>;
  /** Stops the jobs, then closes the connections to HighLevel: the last step of a shutdown. */
  close(): Promise<void>;
}

/** `databaseUrl`: the database `db` uses (the queue keeps its own small pool on it). */
export function createServices(config: Config, db: Db, log: Logger, databaseUrl: string): Services {
  // 10 s per call: the token service makes at most three calls under a row lock (45 s budget).
  const http = createHighLevelHttp({ baseUrl: config.HIGHLEVEL_API_URL, timeoutMs: 10_000 });
  const oauth = new HighLevelOAuth(http, {
    clientId: config.HIGHLEVEL_CLIENT_ID,
    clientSecret: config.HIGHLEVEL_CLIENT_SECRET,
  });
  const tokens = new TokenStore(db, TokenCipher.fromConfig(config.TOKEN_ENCRYPTION_KEY));
  const installs = new InstallService(db, tokens, oauth, log);
  const tokenService = new TokenService(db, tokens, oauth, log, { installUrl: `${config.APP_BASE_URL}/oauth/install` });
  const changes = new ChangeListener(databaseUrl, log);
  const refresher = new TokenRefresher(db, tokenService, log, { giveUpAfterDays: config.REFRESH_GIVE_UP_DAYS });
  // One pacer for every call made with a location's token (or an agency's), whatever the endpoint;
  // its budget is shared with every other process through PostgreSQL.
  const ratePool = createRateBudgetPool(databaseUrl, log);
  const pacer = new RateLimitPacer(
    new RateBudget(ratePool, {
      perWindow: config.HIGHLEVEL_BURST_LIMIT,
      windowMs: config.HIGHLEVEL_BURST_WINDOW_MS,
      daily: config.HIGHLEVEL_DAILY_LIMIT,
    }),
    { log },
  );
  const calendars = new HighLevelCalendars(http, pacer);
  const locations = new LocationDirectory(db, tokenService, new HighLevelLocations(http, pacer), log);
  const blockSlots = new BlockSlotService(tokenService, calendars, new BlockLedger(db));
  const access = new AccessPolicy(db);
  const apiKeys = new ApiKeyService(db, config.API_KEYS);
  // Each cache lives long while notified of changes, and drops a row the moment it changes.
  for (const cache of [tokenService, access, apiKeys]) cache.listenForChanges(changes);
  changes.subscribe("token_changes", tokenService);
  changes.subscribe("token_changes", access);
  changes.subscribe("api_key_changes", apiKeys);
  const queue = new JobQueue(databaseUrl, log, { timeoutSeconds: config.JOB_TIMEOUT_SECONDS });
  const bulkWorker = new BulkWorker(db, blockSlots, queue, log, config.JOB_TIMEOUT_SECONDS);
  // Fetch loops of up to 50 jobs each; a loop waits at least 0.5 s between fetches (pg-boss).
  const loops = Math.ceil(config.WORKER_CONCURRENCY / 50);
  const batchSize = loops > 0 ? Math.ceil(config.WORKER_CONCURRENCY / loops) : 0;
  const mirror = new AppointmentMirror(db, blockSlots, log);
  const webhooks = new WebhookProcessor(
    db,
    queue,
    { ...lifecycleHandlers({ db, installs, tokens: tokenService, oauth }), ...mirror.handlers() },
    log,
    [(events) => mirror.settleUnwatched(events)],
  );
  const inbox = new WebhookInbox(
    db,
    queue,
    loadWebhookKeys({
      ed25519: config.HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY,
      rsa: config.HIGHLEVEL_WEBHOOK_PUBLIC_KEY,
    }),
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
    tokens,
    tokenService,
    changes,
    refresher,
    installs,
    stateStore: new DbStateStore(db),
    apiKeys,
    access,
    idempotency: new IdempotencyStore(db),
    queue,
    bulk: new BulkService(db, queue, access),
    bulkWorker,
    rules: new BlockingRuleService(db, access),
    inbox,
    webhooks,
    sessionSecret: crypto
      .createHash("sha256")
      .update("sessions")
      .update(parseKeyring(config.TOKEN_ENCRYPTION_KEY).primary.key)
      .digest(),
    async startJobs() {
      await queue.start();
      if (loops > 0) {
        await bulkWorker.start({ loops, batchSize });
        // Deliveries are light (a few queries each): bigger batches, or a burst would drain at 40/s.
        await webhooks.start({ loops: 1, batchSize: 100 });
      }
    },
    stopJobs: () => queue.stop(),
    async close() {
      await changes.stop();
      await queue.stop();
      // After the jobs: a running job may still be talking to HighLevel.
      await http.close();
      await ratePool.end();
    },
  };
}
