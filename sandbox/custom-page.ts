import { Router } from "express";
import { encryptSsoPayload } from "./sso-payload";
import type { SandboxState } from "./state";

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * HighLevel's side of a custom page, for the demo: `/_sandbox/app?locationId=…` is a sub-account
 * screen that frames the app's `/app` and answers its REQUEST_USER_DATA with a payload encrypted
 * with the app's Shared Secret, as HighLevel does. Without locationId: the agency view, as an admin.
 */
export function customPageRoutes(state: SandboxState): Router {
  const router = Router();
  // HighLevel's own addresses of a sub-account and of the agency view (HIGHLEVEL_APP_URL links here).
  router.get(["/v2/location/:locationId", "/v2/location/:locationId/*rest"], (req, res) => {
    res.redirect(302, `/_sandbox/app?locationId=${encodeURIComponent(String(req.params.locationId))}`);
  });
  router.get("/", (_req, res) => res.redirect(302, "/_sandbox/app"));
  router.get("/_sandbox/app", (req, res) => {
    const options = state.customPage;
    if (!options) {
      res.status(404).type("text").send("No app is registered for custom pages (the demo does it).");
      return;
    }
    const locationId = typeof req.query.locationId === "string" ? req.query.locationId : undefined;
    const found = locationId ? state.findLocation(locationId) : undefined;
    const company = found?.company ?? state.companies[0];
    if (!company || (locationId && !found)) {
      res
        .status(404)
        .type("text")
        .send(`No sub-account ${locationId ?? ""} in the sandbox.`);
      return;
    }
    // Inside a sub-account, its first staff member is signed in; the agency view is the agency admin's.
    const user = found?.location.users?.[0] ?? {
      id: "sandbox-user-1",
      name: "Sandbox Admin",
      email: "admin@example.com",
    };
    const payload = encryptSsoPayload(
      {
        userId: user.id,
        companyId: company.id,
        role: "admin",
        type: found ? "account" : "agency",
        userName: user.name,
        ...(user.email ? { email: user.email } : {}),
        ...(found ? { activeLocation: found.location.id } : {}),
      },
      options.ssoKey,
    );
    const where = found ? found.location.name : `${company.name} (agency view)`;
    const others = company.locations
      .map((l) => `<a href="/_sandbox/app?locationId=${encodeURIComponent(l.id)}">${escapeHtml(l.name)}</a>`)
      .join(" · ");
    res.type("html")
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(where)} · HighLevel (sandbox)</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="margin:0;font-family:system-ui,sans-serif;background:#f6f7fb">
<header style="padding:10px 16px;background:#1d2433;color:#fff">HighLevel <small style="opacity:.7">local sandbox</small> — ${escapeHtml(where)}</header>
<nav style="padding:8px 16px;font-size:14px">Sub-accounts: ${others} · <a href="/_sandbox/app">Agency view</a></nav>
<iframe id="app" title="Block Slots for HighLevel" src="${escapeHtml(options.appUrl)}/app" style="width:100%;height:calc(100vh - 90px);border:0;background:#fff"></iframe>
<script>
  window.addEventListener("message", function (event) {
    if (event.data && event.data.message === "REQUEST_USER_DATA") {
      event.source.postMessage({ message: "REQUEST_USER_DATA_RESPONSE", payload: ${JSON.stringify(payload)} }, "*");
    }
  });
</script></body></html>`);
  });
  return router;
}
