import { encryptSsoPayload } from "../../sandbox/sso-payload";
import { json, type Case, type CorpusContext } from "./faults-corpus-cases";

const USER = {
  userId: "corpus-user",
  companyId: "bench-agency",
  role: "user",
  type: "account",
  activeLocation: "loc-0",
};

/**
 * Sign-ins and installs: what a stranger can send to the pages and the OAuth routes. Each is refused
 * without a call to HighLevel; none of them is answered with what it carried.
 */
export function authCases(ctx: CorpusContext): Case[] {
  const lure = "Call 555 0100 to restore your account";
  const replayed = encryptSsoPayload(USER, ctx.ssoKey);
  const session = (name: string, payload: string, extra: Partial<Case> = {}): Case => ({
    name,
    method: "POST",
    path: "/app/session",
    headers: { "Content-Type": "application/json" },
    body: json({ payload }),
    expect: 401,
    ...extra,
  });
  return [
    // --- OAuth routes (HTML pages)
    { name: "oauth: /oauth/install with a code", path: "/oauth/install?code=abc123", expect: 400, html: true },
    {
      name: "oauth: callback error with a crafted description",
      path: `/oauth/callback?error=server_error&error_description=${encodeURIComponent(lure)}`,
      expect: 400,
      html: true,
      check: (body) => !body.includes(lure),
    },
    {
      name: "oauth: callback with a forged state",
      path: "/oauth/callback?code=abc&state=forged",
      expect: 400,
      html: true,
    },
    // --- custom-page sign-in
    session("custom page: payload under another secret", encryptSsoPayload(USER, "not-the-apps-secret")),
    session("custom page: payload not base64", "%%% not a payload %%%"),
    session("custom page: payload replayed", replayed, {
      setup: async () => {
        const res = await fetch(`${ctx.url}/app/session`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: json({ payload: replayed }),
        });
        if (res.status !== 200) throw new Error(`first use of the payload answered ${res.status}`);
      },
    }),
    // --- console sign-in (HTML page)
    {
      name: "console: sign-in with a wrong key",
      method: "POST",
      path: "/console/login",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "key=hlbs_not-a-real-key",
      expect: 401,
      html: true,
    },
  ];
}
