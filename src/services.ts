import type { Logger } from "pino";
import { ApiKeyService } from "./auth/api-keys";
import { AccessPolicy } from "./auth/scope";
import { BlockSlotService } from "./block-slots/service";
import type { Config } from "./config";
import type { Db } from "./db/client";
import { createHighLevelHttp } from "./highlevel/http";
import { IdempotencyStore } from "./http/idempotency";
import { HighLevelCalendars } from "./highlevel/calendars";
import { HighLevelOAuth } from "./highlevel/oauth";
import { InstallService } from "./install/service";
import { DbStateStore } from "./install/state-store";
import { TokenCipher } from "./tokens/crypto";
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
  blockSlots: BlockSlotService;
  tokens: TokenStore;
  tokenService: TokenService;
  refresher: TokenRefresher;
  installs: InstallService;
  stateStore: DbStateStore;
  apiKeys: ApiKeyService;
  access: AccessPolicy;
  idempotency: IdempotencyStore;
}

export function createServices(config: Config, db: Db, log: Logger): Services {
  // 10 s per call: the token service makes at most three calls under a row lock (45 s budget).
  const http = createHighLevelHttp({ baseUrl: config.HIGHLEVEL_API_URL, timeoutMs: 10_000 });
  const oauth = new HighLevelOAuth(http, {
    clientId: config.HIGHLEVEL_CLIENT_ID,
    clientSecret: config.HIGHLEVEL_CLIENT_SECRET,
  });
  const tokens = new TokenStore(db, TokenCipher.fromConfig(config.TOKEN_ENCRYPTION_KEY));
  const installs = new InstallService(db, tokens, oauth, log);
  const tokenService = new TokenService(db, tokens, oauth, log, { installUrl: `${config.APP_BASE_URL}/oauth/install` });
  const refresher = new TokenRefresher(db, tokenService, log);
  const calendars = new HighLevelCalendars(http);
  const blockSlots = new BlockSlotService(tokenService, calendars);
  return {
    config,
    db,
    log,
    oauth,
    calendars,
    blockSlots,
    tokens,
    tokenService,
    refresher,
    installs,
    stateStore: new DbStateStore(db),
    apiKeys: new ApiKeyService(db, config.API_KEYS),
    access: new AccessPolicy(db),
    idempotency: new IdempotencyStore(db),
  };
}
