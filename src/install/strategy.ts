import { Strategy as OAuth2Strategy, type StateStore } from "passport-oauth2";
import type { Config } from "../config";
import type { HighLevelOAuth, TokenResponse } from "../highlevel/oauth";
import type { InstallResult, InstallService } from "./service";
import type { DbStateStore } from "./state-store";

export const STRATEGY_NAME = "highlevel";

type TokenCallback = (err: unknown, accessToken?: string, refreshToken?: string, params?: TokenResponse) => void;

/**
 * passport-oauth2 drives the install: consent URL with scopes and state, state check, code
 * exchange, then our verify step stores what was installed. The exchange itself goes through
 * HighLevelOAuth, so one module speaks to HighLevel and its typed errors reach the callback page.
 */
export function createInstallStrategy(
  config: Config,
  oauth: HighLevelOAuth,
  stateStore: DbStateStore,
  installs: InstallService,
): OAuth2Strategy {
  const strategy = new OAuth2Strategy(
    {
      authorizationURL: `${config.HIGHLEVEL_MARKETPLACE_URL}/v2/oauth/chooselocation`,
      tokenURL: `${config.HIGHLEVEL_API_URL}/oauth/token`,
      clientID: config.HIGHLEVEL_CLIENT_ID,
      clientSecret: config.HIGHLEVEL_CLIENT_SECRET,
      callbackURL: config.redirectUri,
      scope: config.HIGHLEVEL_SCOPES.split(/\s+/).filter(Boolean),
      scopeSeparator: " ",
      store: stateStore as unknown as StateStore,
      skipUserProfile: true,
    },
    (
      _accessToken: string,
      _refreshToken: string,
      params: TokenResponse,
      _profile: unknown,
      done: (err: unknown, result?: InstallResult) => void,
    ) => {
      installs.completeInstall(params).then((result) => done(null, result), done);
    },
  );

  const client = (strategy as unknown as { _oauth2: { getOAuthAccessToken: unknown } })._oauth2;
  client.getOAuthAccessToken = (code: string, params: { redirect_uri?: string }, callback: TokenCallback) => {
    oauth.exchangeCode(code, params.redirect_uri ?? config.redirectUri).then(
      (response) => callback(null, response.access_token, response.refresh_token, response),
      (err: unknown) => callback(err),
    );
  };
  return strategy;
}
