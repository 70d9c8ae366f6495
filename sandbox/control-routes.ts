import express, { Router, type Request, type Response } from "express";
import { worldControlRoutes } from "./control-world";
import type { FaultReply } from "./faults";
import type { SandboxState } from "./state";
import type { InstallTarget } from "./types";

type Body = Record<string, unknown>;

/**
 * Test controls under /_sandbox for other processes (e2e scripts, the demo). Not part of
 * HighLevel's API: these requests are neither validated nor recorded.
 */
export function controlRoutes(state: SandboxState): Router {
  const router = Router();
  router.use(express.json());
  router.use(worldControlRoutes(state));

  router.get("/requests", (req: Request, res: Response) => {
    res.json(req.query.invalid === "true" ? state.invalidRequests() : state.requests);
  });

  router.delete("/requests", (_req, res) => {
    state.resetRequests();
    res.status(204).end();
  });

  router.get("/state", (_req, res) => {
    res.json({
      clientId: state.clientId,
      appId: state.appId,
      companies: state.companies,
      installedLocationIds: [...state.installs.keys()],
      blockSlots: state.blockSlots(),
      appointmentCount: state.appointments.byId.size,
      refreshCount: state.refreshCount(),
      mintCount: state.mintCount(),
      webhookPublicKey: state.webhookPublicKey,
      invalidRequestCount: state.invalidRequests().length,
    });
  });

  /** What the consent page does, without a browser: body {locationId} or {companyId, locationIds?}. */
  router.post("/codes", (req, res) => {
    const body = (req.body ?? {}) as Body;
    const locationIds = Array.isArray(body.locationIds) ? { locationIds: body.locationIds.map(String) } : {};
    const target: InstallTarget | undefined =
      typeof body.locationId === "string"
        ? { locationId: body.locationId }
        : typeof body.companyId === "string"
          ? { companyId: body.companyId, ...locationIds }
          : undefined;
    if (!target) return void res.status(400).json({ message: "send {locationId} or {companyId}" });
    try {
      const scopes = Array.isArray(body.scopes) ? body.scopes.map(String) : undefined;
      res.status(201).json({ code: state.issueCode(target, { scopes }) });
    } catch (err) {
      res.status(404).json({ message: (err as Error).message });
    }
  });

  /** Body {method?, path, pathRegex?, reply: {status, body?, headers?} | {drop}, times?}. */
  router.post("/faults", (req, res) => {
    const body = (req.body ?? {}) as Body;
    const path = typeof body.pathRegex === "string" ? new RegExp(body.pathRegex) : body.path;
    if (typeof path !== "string" && !(path instanceof RegExp))
      return void res.status(400).json({ message: "path is required" });
    if (!body.reply || typeof body.reply !== "object")
      return void res.status(400).json({ message: "reply is required" });
    const method = typeof body.method === "string" ? body.method : undefined;
    state.failNext({ method, path }, body.reply as FaultReply, typeof body.times === "number" ? body.times : 1);
    res.status(204).end();
  });

  router.delete("/faults", (_req, res) => {
    state.faults.clear();
    res.status(204).end();
  });

  /** Body {token} or {ownerId}: the next use of the access token(s) answers 401. */
  router.post("/access-tokens/expire", (req, res) => {
    const body = (req.body ?? {}) as Body;
    if (typeof body.token === "string") state.expireAccessToken(body.token);
    if (typeof body.ownerId === "string") state.expireAccessTokensFor(body.ownerId);
    res.status(204).end();
  });

  router.post("/refresh-tokens/revoke", (req, res) => {
    const ownerId = ((req.body ?? {}) as Body).ownerId;
    if (typeof ownerId !== "string") return void res.status(400).json({ message: "ownerId is required" });
    state.revokeRefreshTokensFor(ownerId);
    res.status(204).end();
  });

  /** Body {inactive: boolean}. */
  router.post("/locations/:id/inactive", (req, res) => {
    state.setLocationInactive(String(req.params.id), ((req.body ?? {}) as Body).inactive !== false);
    res.status(204).end();
  });

  router.get("/settings", (_req, res) => res.json(settings(state)));

  /**
   * Body {oauthErrorStyle?: "highlevel" | "rfc6749", webhookUrl?: string | null, retryAfter?: boolean}:
   * what SandboxOptions sets at start, changed while running.
   */
  router.patch("/settings", (req, res) => {
    const body = (req.body ?? {}) as Body;
    const style = body.oauthErrorStyle;
    if (style !== undefined && style !== "highlevel" && style !== "rfc6749") {
      return void res.status(400).json({ message: 'oauthErrorStyle must be "highlevel" or "rfc6749"' });
    }
    if (body.webhookUrl !== undefined && body.webhookUrl !== null && typeof body.webhookUrl !== "string") {
      return void res.status(400).json({ message: "webhookUrl must be a URL or null" });
    }
    if (body.retryAfter !== undefined && typeof body.retryAfter !== "boolean") {
      return void res.status(400).json({ message: "retryAfter must be true or false" });
    }
    if (style) state.oauthErrorStyle = style;
    if (body.webhookUrl !== undefined) state.webhookUrl = body.webhookUrl ?? undefined;
    if (typeof body.retryAfter === "boolean") state.rateLimiter.retryAfter = body.retryAfter;
    res.json(settings(state));
  });

  /** The webhooks sent so far, each with its attempts, and the key that verifies them. */
  router.get("/webhooks", (_req, res) => {
    res.json({
      publicKey: state.webhookPublicKey,
      url: state.webhookUrl ?? null,
      deliveries: state.webhooks.deliveries,
    });
  });

  return router;
}

function settings(state: SandboxState) {
  return {
    oauthErrorStyle: state.oauthErrorStyle,
    webhookUrl: state.webhookUrl ?? null,
    retryAfter: state.rateLimiter.retryAfter,
  };
}
