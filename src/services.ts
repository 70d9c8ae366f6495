import type { Logger } from "pino";
import type { Config } from "./config";
import type { Db } from "./db/client";
import { createHighLevelHttp } from "./highlevel/http";
import { HighLevelOAuth } from "./highlevel/oauth";
import { InstallService } from "./install/service";
import { DbStateStore } from "./install/state-store";
import { TokenCipher } from "./tokens/crypto";
import { TokenStore } from "./tokens/store";

/** Every long-lived part of the app, wired once from configuration. */
export interface Services {
  config: Config;
  db: Db;
  log: Logger;
  oauth: HighLevelOAuth;
  tokens: TokenStore;
  installs: InstallService;
  stateStore: DbStateStore;
}

export function createServices(config: Config, db: Db, log: Logger): Services {
  const http = createHighLevelHttp({ baseUrl: config.HIGHLEVEL_API_URL });
  const oauth = new HighLevelOAuth(http, {
    clientId: config.HIGHLEVEL_CLIENT_ID,
    clientSecret: config.HIGHLEVEL_CLIENT_SECRET,
  });
  const tokens = new TokenStore(db, TokenCipher.fromConfig(config.TOKEN_ENCRYPTION_KEY));
  const installs = new InstallService(db, tokens, oauth, log);
  return { config, db, log, oauth, tokens, installs, stateStore: new DbStateStore(db) };
}
