import { Router, type Request, type Response } from "express";
import type { PassportStatic } from "passport";
import { HighLevelError } from "../highlevel/errors";
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

/**
 * `/oauth/install` starts an install; `/oauth/callback` finishes it and shows what was installed;
 * `/oauth/installs/:id` (and its JSON) shows an install's progress to whoever has the address.
 */
export function installRoutes(
  passport: PassportStatic,
  progress: InstallProgress,
  links: { highLevelAppUrl: string },
): Router {
  const router = Router();

  const renderProgress = (res: Response, view: InstallProgressView) => {
    const words = describeProgress(view);
    const highLevel =
      view.kind === "location" && view.locations[0]
        ? `${links.highLevelAppUrl}/v2/location/${encodeURIComponent(view.locations[0].id)}`
        : `${links.highLevelAppUrl}/`;
    privatePage(res);
    res.status(200).render("install-result", {
      p: view,
      words,
      self: `/oauth/installs/${encodeURIComponent(view.id)}`,
      refreshSeconds: words.live ? REFRESH_SECONDS : 0,
      highLevel,
    });
  };

  router.get("/oauth/install", passport.authenticate(STRATEGY_NAME, { session: false }));

  router.get("/oauth/callback", (req: Request, res: Response, next) => {
    const error = firstString(req.query.error);
    if (error) {
      if (error === "access_denied") {
        return res.status(400).render("install-cancelled");
      }
      const description = firstString(req.query.error_description);
      return renderError(
        res,
        400,
        "HighLevel reported an error",
        `HighLevel sent back "${error}"${description ? `: ${description}` : ""}. Nothing was connected.`,
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
        progress.get(result.installId).then((view) => {
          if (!view) return next(new Error(`install ${result.installId} vanished right after it was stored`));
          renderProgress(res, view);
        }, next);
      },
    )(req, res, next);
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
