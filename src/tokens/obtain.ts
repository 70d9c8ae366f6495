import type { Logger } from "pino";
import { HighLevelUnreachableError, InvalidGrantError } from "../highlevel/errors";
import type { HighLevelOAuth, TokenResponse } from "../highlevel/oauth";
import type { Owner } from "./store";

/**
 * New tokens for an installation, asked of HighLevel (TokenService calls this under the row's
 * lock): a refresh with its own refresh token, or a mint from its agency's token when it has none
 * or HighLevel refuses it.
 */
export async function obtainTokens(
  oauth: HighLevelOAuth,
  log: Pick<Logger, "warn">,
  of: { owner: Owner; id: string; refreshToken: string | null; companyId: string | null; companyToken: string | null },
): Promise<TokenResponse> {
  const { owner, id, refreshToken, companyId, companyToken } = of;
  const mint = () => {
    if (!companyId || !companyToken)
      throw new InvalidGrantError(400, "the agency's authorization is not available to mint a location token");
    return oauth.mintLocationToken(companyToken, companyId, id);
  };
  if (!refreshToken) return mint();
  try {
    return await refreshOnce(oauth, log, refreshToken, owner === "company" ? "Company" : "Location");
  } catch (err) {
    // A location of an agency can always be minted again from the agency's token.
    if (err instanceof InvalidGrantError && companyId && companyToken) return mint();
    throw err;
  }
}

/**
 * A refresh whose answer never came may have spent the refresh token: try it once more. If
 * HighLevel now says invalid grant, the caller marks the installation for reinstall rather
 * than looping.
 */
async function refreshOnce(
  oauth: HighLevelOAuth,
  log: Pick<Logger, "warn">,
  refreshToken: string,
  userType: "Company" | "Location",
): Promise<TokenResponse> {
  try {
    return await oauth.refresh(refreshToken, userType);
  } catch (err) {
    if (!(err instanceof HighLevelUnreachableError) || !err.requestSent) throw err;
    log.warn({ userType }, "refresh answer lost; trying the same refresh token once more");
    return oauth.refresh(refreshToken, userType);
  }
}
