import crypto from "node:crypto";
import { Router } from "express";
import type { ApiKeyService } from "../auth/api-keys";
import type { AuthThrottle } from "../auth/throttle";
import { AppError } from "../errors";
import type { AppMetrics } from "./metrics";

export interface MetricsRequest {
  /** The Authorization header, if any. */
  authorization: string | undefined;
  /** The client's address as the app sees it (`req.ip`: through TRUST_PROXY's proxies only). */
  clientIp: string | undefined;
  /** The request came with X-Forwarded-For or Forwarded: a proxy passed it on. */
  forwarded: boolean;
}

export type MetricsAccess = "allowed" | "unauthorized" | "forbidden";

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash("sha256").update(given).digest();
  const b = crypto.createHash("sha256").update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/**
 * Who may read /metrics: METRICS_TOKEN as a bearer token, or a full-access API key (a key scoped
 * to one company or location is refused: the series describe every tenant). Without credentials,
 * only while no METRICS_TOKEN is set (an operator who sets one means it to be needed, also by other
 * processes on the host), and only a client on this host that no proxy forwarded: behind a proxy
 * on the same host that TRUST_PROXY does not name, every visitor would otherwise look local.
 */
export async function metricsAccess(
  request: MetricsRequest,
  metricsToken: string | undefined,
  keys: ApiKeyService,
): Promise<MetricsAccess> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? "");
  if (!match) {
    if (request.authorization || metricsToken) return "unauthorized";
    return request.clientIp && LOOPBACK.has(request.clientIp) && !request.forwarded ? "allowed" : "unauthorized";
  }
  const given = match[1]!;
  if (metricsToken && sameSecret(given, metricsToken)) return "allowed";
  const principal = await keys.authenticate(given);
  if (!principal) return "unauthorized";
  return principal.scope === "all" ? "allowed" : "forbidden";
}

export interface MetricsRouteDeps {
  metrics: AppMetrics;
  apiKeys: ApiKeyService;
  authThrottle: AuthThrottle;
  metricsToken: string | undefined;
}

/** `GET /metrics`: the Prometheus text format. */
export function metricsRoutes(deps: MetricsRouteDeps): Router {
  const router = Router();
  router.get("/metrics", async (req, res) => {
    deps.authThrottle.assertAllowed(req.ip);
    const access = await metricsAccess(
      {
        authorization: req.headers.authorization,
        clientIp: req.ip,
        forwarded: req.headers["x-forwarded-for"] !== undefined || req.headers.forwarded !== undefined,
      },
      deps.metricsToken,
      deps.apiKeys,
    );
    if (access === "forbidden") {
      throw new AppError("forbidden", "Metrics need METRICS_TOKEN or a full-access API key.");
    }
    if (access === "unauthorized") {
      if (req.headers.authorization) await deps.authThrottle.failed(req.ip);
      throw new AppError(
        "unauthorized",
        "Send METRICS_TOKEN or a full-access API key as `Authorization: Bearer <key>`.",
      );
    }
    const body = await deps.metrics.registry.metrics();
    res.type(deps.metrics.registry.contentType).send(body);
  });
  return router;
}
