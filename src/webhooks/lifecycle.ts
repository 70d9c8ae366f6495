import type { Db } from "../db/client";
import type { WebhookEvent } from "../generated/prisma/client";
import type { HighLevelOAuth } from "../highlevel/oauth";
import type { InstallService } from "../install/service";
import type { TokenService } from "../tokens/service";
import { mapLimit } from "../util/concurrency";
import { installPayload, readPayload, uninstallPayload } from "./payloads";
import { RetryLater, type HandlerResult, type WebhookHandler } from "./processor";

const NO_TOKENS = { accessTokenEnc: null, refreshTokenEnc: null, tokenExpiresAt: null };

/**
 * INSTALL and UNINSTALL (docs/highlevel.md, "Webhooks"). HighLevel may send INSTALL before the code exchange has
 * stored a token, and deliveries can be worked out of order, so each handler checks what is
 * newer before acting.
 */
export function lifecycleHandlers(deps: {
  db: Db;
  installs: InstallService;
  tokens: TokenService;
  oauth: HighLevelOAuth;
}): Record<string, WebhookHandler> {
  const { db, installs, tokens, oauth } = deps;

  /** An UNINSTALL received after this event, for the same location or its whole company. */
  const uninstalledSince = (event: WebhookEvent, companyId: string | undefined, locationId: string | undefined) =>
    db.webhookEvent.findFirst({
      where: {
        type: "UNINSTALL",
        receivedAt: { gt: event.receivedAt },
        OR: [...(locationId ? [{ locationId }] : []), ...(companyId ? [{ companyId, locationId: null }] : [])],
      },
      select: { id: true },
    });

  const companyToken = async (companyId: string): Promise<string | undefined> => {
    const company = await db.company.findUnique({ where: { id: companyId } });
    if (company?.status !== "active" || !company.refreshTokenEnc) return undefined;
    return tokens.accessToken("company", companyId);
  };

  async function install(event: WebhookEvent): Promise<HandlerResult> {
    const { companyId, locationId, companyName } = readPayload(installPayload, event.payload);
    if (await uninstalledSince(event, companyId, locationId)) {
      return { status: "ignored", outcome: "Superseded by a later UNINSTALL." };
    }
    if (companyId && companyName)
      await db.company.updateMany({ where: { id: companyId }, data: { name: companyName } });

    if (locationId) {
      const location = await db.location.findUnique({ where: { id: locationId } });
      if (location?.status === "active" && location.refreshTokenEnc !== null) {
        return { status: "processed", outcome: `Location ${locationId} is connected.` };
      }
      const token = companyId ? await companyToken(companyId) : undefined;
      if (!token) {
        throw new RetryLater(`No token for location ${locationId} yet: waiting for the install's code exchange.`);
      }
      const result = await installs.connectAgencyLocation(token, companyId!, locationId, location?.name ?? null);
      return {
        status: "processed",
        outcome:
          result.status === "active"
            ? `Location ${locationId} connected with the agency's token.`
            : `Location ${locationId} could not be connected: ${result.error}`,
      };
    }

    if (!companyId) return { status: "ignored", outcome: "INSTALL without companyId or locationId." };
    const token = await companyToken(companyId);
    if (!token) throw new RetryLater(`No token for agency ${companyId} yet: waiting for the install's code exchange.`);
    const installed = await oauth.listInstalledLocations(token, companyId);
    const connected = new Set(
      (
        await db.location.findMany({
          where: { id: { in: installed.map((l) => l.id) }, status: "active", refreshTokenEnc: { not: null } },
          select: { id: true },
        })
      ).map((l) => l.id),
    );
    const missing = installed.filter((l) => !connected.has(l.id));
    const results = await mapLimit(missing, 5, (l) =>
      installs.connectAgencyLocation(token, companyId, l.id, l.name ?? null),
    );
    const failed = results.filter((r) => r.status !== "active").length;
    return {
      status: "processed",
      outcome: `Agency ${companyId}: ${missing.length - failed} location(s) newly connected, ${connected.size} already, ${failed} failed.`,
    };
  }

  async function uninstall(event: WebhookEvent): Promise<HandlerResult> {
    const { companyId, locationId } = readPayload(uninstallPayload, event.payload);
    // A reinstall after this delivery (a newer code exchange) wins over it.
    const olderInstall = { installedAt: { lte: event.receivedAt } };
    let locationIds: string[];
    if (locationId) {
      locationIds = [locationId];
    } else if (companyId) {
      await db.company.updateMany({
        where: { id: companyId, ...olderInstall },
        data: { ...NO_TOKENS, status: "uninstalled", lastError: null },
      });
      locationIds = (await db.location.findMany({ where: { companyId }, select: { id: true } })).map((l) => l.id);
    } else {
      return { status: "ignored", outcome: "UNINSTALL without companyId or locationId." };
    }
    for (const id of locationIds) tokens.forget("location", id);
    if (companyId && !locationId) tokens.forget("company", companyId);
    const { count } = await db.location.updateMany({
      where: { id: { in: locationIds }, ...olderInstall },
      data: { ...NO_TOKENS, status: "uninstalled", lastError: null },
    });
    // Work queued for these locations would only fail: cancel what has not started.
    const cancelled = await db.bulkItem.updateMany({
      where: { locationId: { in: locationIds }, status: "pending", startedAt: null },
      data: {
        status: "cancelled",
        errorCode: "location_not_installed",
        errorDetail: "The location uninstalled the app.",
      },
    });
    return {
      status: "processed",
      outcome: `${companyId && !locationId ? `Agency ${companyId} and ` : ""}${count} location(s) uninstalled; ${cancelled.count} pending item(s) cancelled.`,
    };
  }

  return { INSTALL: install, UNINSTALL: uninstall };
}
