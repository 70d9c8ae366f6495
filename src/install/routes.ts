import { Router, type Request, type Response } from "express";
import type { PassportStatic } from "passport";
import type { AuthThrottle } from "../auth/throttle";
import { HighLevelApiError, HighLevelError } from "../highlevel/errors";
import type { InstallResult } from "./service";
import { STRATEGY_NAME } from "./strategy";

function renderError(res: Response, status: number, title: string, message: string, hint: string | null) {
  res.status(status).render("error", { title, message, hint });
}

const firstString = (v: unknown): string | undefined =>
  typeof v === "string" ? v : Array.isArray(v) ? firstString(v[0]) : undefined;

/** Logged, never shown: the callback's query is anyone's to write. */
const clip = (v: string | undefined) => (v === undefined ? undefined : v.slice(0, 200));

interface Wording {
  title: string;
  message: string;
  hint: string;
}

/**
 * Our own words for the RFC 6749 §4.1.2.1 error codes HighLevel may send back. The page never
 * repeats what the query says: a link to this page could otherwise make it say anything.
 */
const CALLBACK_ERRORS = new Map<string, Wording>([
  [
    "access_denied",
    {
      title: "Install cancelled",
      message: "The install was cancelled on HighLevel's consent page, so nothing was connected.",
      hint: "Start the install again when you are ready.",
    },
  ],
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

/**
 * `/oauth/install` starts an install; `/oauth/callback` finishes it and shows what was installed.
 * A refused code or state counts as a failed authentication of the caller's address.
 */
export function installRoutes(passport: PassportStatic, deps: { throttle: AuthThrottle; redirectUri: string }): Router {
  const router = Router();
  const { throttle } = deps;

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
    const connected = result.locations.filter((l) => l.status === "active");
    const failed = result.locations.filter((l) => l.status === "failed");
    res.status(200).render("install-result", { result, connected, failed });
  });

  return router;
}
