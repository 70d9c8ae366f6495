import type { Harness } from "./harness";

/**
 * A stored token past its expiry, and HighLevel agreeing (it refuses the token too): the next call
 * for its owner, a location or an agency, must renew it.
 */
export async function expireStoredToken(h: Harness, id: string, owner: "location" | "agency" = "location") {
  const data = { tokenExpiresAt: new Date(Date.now() - 60_000) };
  if (owner === "agency") await h.db.company.update({ where: { id }, data });
  else await h.db.location.update({ where: { id }, data });
  h.sandbox.state.expireAccessTokensFor(id);
}
