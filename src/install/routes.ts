import { Router, type Request, type Response } from "express";
import type { PassportStatic } from "passport";
import type { AuthThrottle } from "../auth/throttle";
import { HighLevelApiError, HighLevelError } from "../highlevel/errors";
import { describeProgress } from "./present";
import type { InstallProgress, InstallProgressView } from "./progress";
import type { InstallResult } from "./service";
import { STRATEGY_NAME } from "./strategy";

/** Seconds between refreshes of a page without JavaScript; the script looks every two. */
const REFRESH_SECONDS = 5;

function renderError(res: Response, status: number, title: string, message: string, hint: string | null) {
  res.status(status).render("error", { title, message, hint });
}

const firstString = (v: unknown): string | undefined =>
  typeof v === "string" ? v : Array.isArray(v) ? firstString(v[0]) : undefined;

/** The page's address is the only key to it: no caches, no search engines. */
function privatePage(res: Response): void {
  res.set({ "Cache-Control": "no-store", "X-Robots-Tag": "noindex" });
}

/** Logged, never shown: the callback's query is anyone's to write. */
const clip = (v: string | undefined) => (v === undefined ? undefined : v.slice(0, 200));

interface Wording {
  title: string;
  message: string;
  hint: string;
}

/**
 * Our own words for the RFC 6749 §4.1.2.1 error codes HighLevel may send back (a declined consent
 * has a page of its own). The page never
 * repeats what the query says: a link to this page could otherwise make it say anything.
 */
const CALLBACK_ERRORS = new Map<string, Wording>([
  ...["invalid_request", "unauthorized_client", "unsupported_response_type", "invalid_scope"].map(
    (code): [string, Wording] => [
      code,
      {
        title: "HighLevel refused the install",
        message:
          "HighLevel would not start the install with this app's settings (its client id, redirect URL or scopes), so nothing was connected.",
        hint: "Tell whoever runs this app: its settings must match its HighLevel marketplace listing.",
      },
    ],
  ),
  ...["server_error", "temporarily_unavailable"].map((code): [string, Wording] => [
    code,
    {
      title: "HighLevel could not finish the install",
      message: "HighLevel had a problem completing the install, so nothing was connected.",
      hint: "Start the install again in a few minutes.",
    },
  ]),
]);
const UNKNOWN_ERROR: Wording = {
  title: "HighLevel reported an error",
  message: "HighLevel sent the install back with an error, so nothing was connected.",
  hint: "Start the install again when you are ready.",
};

/** HighLevel answered the code exchange with a refusal of the code itself (not a failure of its own). */
const codeRefused = (err: HighLevelError) =>
  err instanceof HighLevelApiError && err.status !== undefined && err.status < 500 && err.status !== 429;

interface Outcome {
  err: unknown;
  result: InstallResult | false;
  info?: { message?: string };
}

/** passport-oauth2's state check, code exchange and verify step, as a promise of what came out. */
const completeInstall = (passport: PassportStatic, req: Request, res: Response) =>
  new Promise<Outcome>((resolve) => {
    passport.authenticate(
      STRATEGY_NAME,
      { session: false },
      (err: unknown, result: InstallResult | false, info?: { message?: string }) => resolve({ err, result, info }),
    )(req, res, (err: unknown) => resolve({ err, result: false }));
  });

export interface InstallRouteDeps {
  progress: InstallProgress;
  throttle: AuthThrottle;
  redirectUri: string;
  /** Where "Open in HighLevel" leads. */
  highLevelAppUrl: string;
}

/**
 * `/oauth/install` starts an install; `/oauth/callback` finishes it and shows what was installed;
 * `/oauth/installs/:id` (and its JSON) shows an install's progress to whoever has the address.
 * A refused code or state counts as a failed authentication of the caller's address.
 */
export function installRoutes(passport: PassportStatic, deps: InstallRouteDeps): Router {
  const router = Router();
  const { throttle, progress } = deps;

  const renderProgress = (res: Response, view: InstallProgressView) => {
    const words = describeProgress(view);
    const highLevel =
      view.kind === "location" && view.locations[0]
        ? `${deps.highLevelAppUrl}/v2/location/${encodeURIComponent(view.locations[0].id)}`
        : `${deps.highLevelAppUrl}/`;
    privatePage(res);
    res.status(200).render("install-result", {
      p: view,
      words,
      self: `/oauth/installs/${encodeURIComponent(view.id)}`,
      refreshSeconds: words.live ? REFRESH_SECONDS : 0,
      highLevel,
    });
  };

  router.get("/oauth/install", (req, res, next) => {
    // passport would take a code here for a callback and exchange it: only /oauth/callback does that.
    if (req.query.code !== undefined || req.query.error !== undefined) {
      return renderError(
        res,
        400,
        "This address starts an install",
        "HighLevel returns from its consent page to the app's redirect URL, not to this address, so nothing was installed.",
        `The marketplace app's redirect URL must be ${deps.redirectUri}. Then start the install again.`,
      );
    }
    passport.authenticate(STRATEGY_NAME, { session: false })(req, res, next);
  });

  router.get("/oauth/callback", async (req: Request, res: Response) => {
    const error = firstString(req.query.error);
    if (error) {
      const declined = error === "access_denied";
      req.log[declined ? "info" : "warn"](
        { error: clip(error), errorDescription: clip(firstString(req.query.error_description)) },
        "install: HighLevel sent back an error",
      );
      if (declined) return res.status(400).render("install-cancelled");
      const { title, message, hint } = CALLBACK_ERRORS.get(error) ?? UNKNOWN_ERROR;
      return renderError(res, 400, title, message, hint);
    }
    if (!firstString(req.query.code)) {
      return renderError(
        res,
        400,
        "No authorization code",
        "This page was opened without the authorization code HighLevel adds after you approve the app, so there is nothing to install.",
        "Start the install from the Install button or from the HighLevel marketplace.",
      );
    }
    throttle.assertAllowed(req.ip);
    const { err, result, info } = await completeInstall(passport, req, res);
    if (err) {
      const cause = (err as { oauthError?: unknown }).oauthError ?? err;
      if (!(cause instanceof HighLevelError)) throw cause;
      req.log.warn({ status: cause.status, reason: cause.message }, "install failed at HighLevel");
      if (codeRefused(cause)) await throttle.failed(req.ip);
      return renderError(
        res,
        502,
        "HighLevel did not complete the install",
        `HighLevel refused or could not finish the install: ${cause.message}. Nothing was connected.`,
        "Authorization codes work once and expire after a few minutes: start the install again.",
      );
    }
    if (!result) {
      await throttle.failed(req.ip);
      return renderError(
        res,
        400,
        "Install link not recognised",
        info?.message ?? "This install could not be verified.",
        "Start the install again from the Install button.",
      );
    }
    const view = await progress.get(result.installId);
    if (!view) throw new Error(`install ${result.installId} vanished right after it was stored`);
    renderProgress(res, view);
  });

  router.get("/oauth/installs/:id", async (req: Request, res: Response) => {
    const view = await progress.get(String(req.params.id));
    if (!view) {
      privatePage(res);
      return renderError(
        res,
        404,
        "Install page not found",
        "There is no install at this address, or it is more than a week old.",
        "The operator console lists every sub-account and its status.",
      );
    }
    renderProgress(res, view);
  });

  // What the page's script polls: the same view, and the same words.
  router.get("/oauth/installs/:id/progress", async (req: Request, res: Response) => {
    const view = await progress.get(String(req.params.id));
    privatePage(res);
    if (!view) return res.status(404).json({ error: "No install at this address, or it is more than a week old." });
    res.json({ ...view, ...describeProgress(view) });
  });

  return router;
}
