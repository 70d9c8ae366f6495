import { Router, type Request, type Response } from "express";
import type { PassportStatic } from "passport";
import { HighLevelError } from "../highlevel/errors";
import type { InstallResult } from "./service";
import { STRATEGY_NAME } from "./strategy";

function renderError(res: Response, status: number, title: string, message: string, hint: string | null) {
  res.status(status).render("error", { title, message, hint });
}

const firstString = (v: unknown): string | undefined =>
  typeof v === "string" ? v : Array.isArray(v) ? firstString(v[0]) : undefined;

/** `/oauth/install` starts an install; `/oauth/callback` finishes it and shows what was installed. */
export function installRoutes(passport: PassportStatic): Router {
  const router = Router();

  router.get("/oauth/install", passport.authenticate(STRATEGY_NAME, { session: false }));

  router.get("/oauth/callback", (req: Request, res: Response, next) => {
    const error = firstString(req.query.error);
    if (error) {
      const declined = error === "access_denied";
      const description = firstString(req.query.error_description);
      return renderError(
        res,
        400,
        declined ? "Install cancelled" : "HighLevel reported an error",
        declined
          ? "The install was cancelled on HighLevel's consent page, so nothing was connected."
          : `HighLevel sent back "${error}"${description ? `: ${description}` : ""}. Nothing was connected.`,
        "Start the install again when you are ready.",
      );
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
    passport.authenticate(
      STRATEGY_NAME,
      { session: false },
      (err: unknown, result: InstallResult | false, info?: { message?: string }) => {
        if (err) {
          const cause = (err as { oauthError?: unknown }).oauthError ?? err;
          if (cause instanceof HighLevelError) {
            req.log.warn({ status: cause.status, reason: cause.message }, "install failed at HighLevel");
            return renderError(
              res,
              502,
              "HighLevel did not complete the install",
              `HighLevel refused or could not finish the install: ${cause.message}. Nothing was connected.`,
              "Authorization codes work once and expire after a few minutes: start the install again.",
            );
          }
          return next(cause);
        }
        if (!result) {
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
      },
    )(req, res, next);
  });

  return router;
}
