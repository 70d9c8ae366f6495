import { Router, type Request, type Response } from "express";
import { markInvalid } from "./recorder";
import type { SandboxState } from "./state";
import type { SandboxCompany } from "./types";

/**
 * The marketplace consent screen ("choose location"). In HighLevel the user picks one
 * sub-account (a Location install) or an agency (a Company, bulk install); the page then
 * redirects to the app's redirect_uri with a one-time code.
 */

interface ConsentParams {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state?: string;
}

const SCOPE_LABELS: Record<string, string> = {
  "oauth.readonly": "See which sub-accounts the app is installed on",
  "oauth.write": "Create access tokens for sub-accounts",
  "calendars.readonly": "View calendars",
  "calendars.write": "Edit calendars",
  "calendars/events.readonly": "View calendar events and blocked time",
  "calendars/events.write": "Create, edit and delete calendar events and blocked time",
  "locations.readonly": "View sub-account details",
};

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

function readParams(state: SandboxState, query: Record<string, unknown>): { params?: ConsentParams; errors: string[] } {
  const str = (key: string) => (typeof query[key] === "string" ? query[key] : "");
  const errors: string[] = [];
  if (str("response_type") !== "code") errors.push('response_type must be "code".');
  if (!str("client_id")) errors.push("client_id is missing.");
  else if (str("client_id") !== state.clientId)
    errors.push(`No marketplace app has the client_id "${str("client_id")}".`);
  let redirect: URL | undefined;
  try {
    redirect = new URL(str("redirect_uri"));
  } catch {
    /* reported below */
  }
  if (!redirect || !/^https?:$/.test(redirect.protocol)) errors.push("redirect_uri must be an absolute http(s) URL.");
  const scopes = str("scope").split(/\s+/).filter(Boolean);
  if (scopes.length === 0) errors.push("scope is missing: list the scopes the app needs, separated by spaces.");
  if (errors.length > 0) return { errors };
  return {
    errors,
    params: { clientId: str("client_id"), redirectUri: str("redirect_uri"), scopes, state: str("state") || undefined },
  };
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f2f4f7;color:#101828}
header{background:#fff;border-bottom:1px solid #eaecf0;padding:14px 24px;font-weight:700;color:#155eef}
header small{color:#667085;font-weight:400;margin-left:8px}
main{max-width:560px;margin:32px auto;background:#fff;border:1px solid #eaecf0;border-radius:12px;padding:28px 32px;box-shadow:0 1px 3px rgba(16,24,40,.08)}
h1{font-size:20px;margin:0 0 4px}p.sub{color:#475467;margin:0 0 20px}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#667085;margin:22px 0 8px}
ul.scopes{margin:0;padding-left:20px}ul.scopes code{font-size:12px;color:#667085}
fieldset{border:0;padding:0;margin:0}label.opt{display:flex;gap:10px;align-items:flex-start;padding:10px 12px;border:1px solid #eaecf0;border-radius:8px;margin-bottom:8px;cursor:pointer}
label.opt:hover{border-color:#84adff}label.opt small{display:block;color:#667085}
.agency{background:#f5f8ff}details{margin:0 0 8px}summary{cursor:pointer;color:#155eef;padding:4px 0}
.ticks{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:2px 12px;max-height:240px;overflow:auto;padding:4px 12px 8px}
label.tick{font-size:14px}.actions{display:flex;gap:12px;justify-content:flex-end;margin-top:24px}
button{font:inherit;padding:9px 18px;border-radius:8px;border:1px solid #d0d5dd;background:#fff;cursor:pointer}
button.primary{background:#155eef;border-color:#155eef;color:#fff}.error{background:#fef3f2;border:1px solid #fecdca;color:#b42318;padding:10px 12px;border-radius:8px}
</style></head><body><header>HighLevel <small>Marketplace · local sandbox</small></header><main>${body}</main></body></html>`;
}

/** Long lists fold away, so a 2,000-location agency still fits on the page. */
const FOLD_AFTER = 12;

function fold(summary: string, count: number, inner: string): string {
  return count > FOLD_AFTER ? `<details><summary>${summary}</summary>${inner}</details>` : inner;
}

function companyOptions(company: SandboxCompany): string {
  const n = company.locations.length;
  const name = escapeHtml(company.name);
  const id = escapeHtml(company.id);
  const locations = company.locations
    .map(
      (l) => `<label class="opt"><input type="radio" name="target" value="location:${escapeHtml(l.id)}">
<span>${escapeHtml(l.name)}<small>Sub-account · ${escapeHtml(l.id)}</small></span></label>`,
    )
    .join("");
  const ticks = company.locations
    .map(
      (l) =>
        `<label class="tick"><input type="checkbox" name="locationIds" value="${escapeHtml(l.id)}"> ${escapeHtml(l.name)}</label>`,
    )
    .join("");
  return `<h2>${name}</h2>
<label class="opt agency"><input type="radio" name="target" value="company:${id}">
<span>Whole agency: ${name}<small>Installs on ${n === 1 ? "its one sub-account" : `all ${n} sub-accounts`} and future ones (agency token)</small></span></label>
<label class="opt agency"><input type="radio" name="target" value="company-some:${id}">
<span>Some sub-accounts of ${name}<small>Installs on the ones ticked below (agency token)</small></span></label>
${fold(`Tick sub-accounts (${n})`, n, `<div class="ticks">${ticks}</div>`)}
${fold(`Or install on one sub-account only (${n})`, n, locations)}`;
}

/** The install the form asks for, or why it cannot be done. */
function chosenTarget(state: SandboxState, form: Record<string, string | string[] | undefined>) {
  const [kind, id] = String(form.target ?? "").split(/:(.*)/s);
  if (kind === "location" && id && state.findLocation(id)) return { target: { locationId: id } };
  const company = id ? state.findCompany(id) : undefined;
  if (kind === "company" && company) return { target: { companyId: company.id } };
  if (kind === "company-some" && company) {
    const ticked = new Set([form.locationIds ?? []].flat());
    const locationIds = company.locations.filter((l) => ticked.has(l.id)).map((l) => l.id);
    if (locationIds.length === 0) return { error: `Tick at least one sub-account of ${company.name}.` };
    return { target: { companyId: company.id, locationIds } };
  }
  return { error: "Choose a sub-account or an agency." };
}

function consentPage(state: SandboxState, params: ConsentParams, action: string, error?: string): string {
  const scopes = params.scopes
    .map((s) => `<li>${escapeHtml(SCOPE_LABELS[s] ?? s)} <code>${escapeHtml(s)}</code></li>`)
    .join("");
  return page(
    `Install ${state.appName}`,
    `<h1>${escapeHtml(state.appName)} wants access</h1><p class="sub">App ${escapeHtml(state.appId)} · choose where to install it.</p>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ""}
<h2>It will be able to</h2><ul class="scopes">${scopes}</ul>
<form method="post" action="${escapeHtml(action)}"><fieldset>${state.companies.map(companyOptions).join("")}</fieldset>
<div class="actions"><button type="submit" name="decision" value="cancel">Cancel</button>
<button class="primary" type="submit" name="decision" value="allow">Allow</button></div></form>`,
  );
}

function errorPage(res: Response, errors: string[]): void {
  markInvalid(res, errors);
  res
    .status(400)
    .type("html")
    .send(
      page(
        "Install error",
        `<h1>This install link is not valid</h1><div class="error"><ul>${errors.map((e) => `<li>${escapeHtml(e)}</li>`).join("")}</ul></div>`,
      ),
    );
}

function redirectTo(res: Response, params: ConsentParams, values: Record<string, string>): void {
  const url = new URL(params.redirectUri);
  for (const [k, v] of Object.entries(values)) url.searchParams.set(k, v);
  // Whether HighLevel echoes state is UNCONFIRMED; the sandbox echoes it only when given.
  if (params.state !== undefined) url.searchParams.set("state", params.state);
  res.redirect(302, url.toString());
}

export function consentRoutes(state: SandboxState): Router {
  const router = Router();
  const paths = ["/v2/oauth/chooselocation", "/oauth/chooselocation"];

  router.get(paths, (req: Request, res: Response) => {
    const { params, errors } = readParams(state, req.query);
    if (!params) return errorPage(res, errors);
    res.type("html").send(consentPage(state, params, req.originalUrl));
  });

  router.post(paths, (req: Request, res: Response) => {
    const { params, errors } = readParams(state, req.query);
    if (!params) return errorPage(res, errors);
    const form = (req.body ?? {}) as Record<string, string | string[] | undefined>;
    if (form.decision === "cancel") {
      return redirectTo(res, params, {
        error: "access_denied",
        error_description: "The user denied access to the app",
      });
    }
    const { target, error } = chosenTarget(state, form);
    if (!target) {
      return void res
        .status(400)
        .type("html")
        .send(consentPage(state, params, req.originalUrl, error));
    }
    const code = state.issueCode(target, { scopes: params.scopes, redirectUri: params.redirectUri });
    redirectTo(res, params, { code });
  });

  return router;
}
