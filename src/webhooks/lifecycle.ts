import type { AuditLog } from "../audit/log";
import type { Db } from "../db/client";
import type { WebhookEvent } from "../generated/prisma/client";
import type { InstallRecords } from "../install/records";
import type { TokenService } from "../tokens/service";
import { installPayload, readPayload, uninstallPayload } from "./payloads";
import { RetryLater, type HandlerResult, type WebhookHandler } from "./processor";

const NO_TOKENS = { accessTokenEnc: null, refreshTokenEnc: null, tokenExpiresAt: null };

/**
 * How far apart an INSTALL and the browser's code exchange of the same consent may land. HighLevel
 * sends INSTALL as the user approves, so the exchange usually follows it by seconds.
 */
const PAIRING_MS = 2 * 60_000;

/**
 * INSTALL and UNINSTALL (docs/highlevel.md, "Webhooks"). HighLevel may send INSTALL before the code exchange has
 * stored a token, and deliveries can be worked out of order, so each handler checks what is
 * newer before acting. INSTALL connects through the same queued mint jobs as the code exchange
 * (src/install/records.ts), so the two never mint a location twice, whichever comes first.
 */
export function lifecycleHandlers(deps: {
  db: Db;
  records: InstallRecords;
  tokens: TokenService;
  audit: AuditLog;
}): Record<string, WebhookHandler> {
  const { db, records, tokens, audit } = deps;
  /** The app acting on a delivery: its id says which one. */
  const byWebhook = (event: WebhookEvent) => ({ kind: "webhook" as const, id: event.id, name: event.type });

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

  /** Whether the agency's own token is stored and usable (the mint job gets a fresh one itself). */
  const agencyConnected = async (companyId: string | undefined): Promise<boolean> => {
    if (!companyId) return false;
    const company = await db.company.findUnique({
      where: { id: companyId },
      select: { status: true, refreshTokenEnc: true },
    });
    return company?.status === "active" && company.refreshTokenEnc !== null;
  };

  /**
   * The agency of a sub-account whose INSTALL came without `companyId`, as HighLevel warns one may
   * when the app is installed to an agency's future sub-accounts: the sub-account's own row, else a
   * delivery that named both (LocationCreate carries `companyId`), else the one connected agency
   * that installs to future sub-accounts. Undefined while none of them says.
   */
  const agencyOf = async (locationId: string): Promise<string | undefined> => {
    const known = await db.location.findUnique({ where: { id: locationId }, select: { companyId: true } });
    if (known?.companyId) return known.companyId;
    const named = await db.webhookEvent.findFirst({
      where: { locationId, companyId: { not: null } },
      orderBy: { receivedAt: "desc" },
      select: { companyId: true },
    });
    if (named?.companyId) return named.companyId;
    const future = await db.company.findMany({
      where: { installToFutureLocations: true, status: "active" },
      select: { id: true },
      take: 2,
    });
    return future.length === 1 ? future[0]!.id : undefined;
  };

  const paired = (event: WebhookEvent) => new Date(event.receivedAt.getTime() - PAIRING_MS);

  async function installLocation(event: WebhookEvent, companyId: string | undefined, locationId: string) {
    const location = await db.location.findUnique({
      where: { id: locationId },
      select: { status: true, refreshTokenEnc: true, accessTokenEnc: true },
    });
    if (location?.status === "active" && (location.refreshTokenEnc ?? location.accessTokenEnc) !== null) {
      return { status: "processed" as const, outcome: "Already connected: nothing to do." };
    }
    if (location?.status === "connecting") {
      return {
        status: "processed" as const,
        outcome: "Already being connected by its agency's install: nothing more to do.",
      };
    }
    const install = await records.latestSince(paired(event), { locationId });
    if (install && location?.status !== undefined) {
      return {
        status: "processed" as const,
        outcome: "Handled by the install made in the browser: nothing more to do.",
      };
    }
    const agency = companyId ?? (await agencyOf(locationId));
    if (!agency) {
      throw new RetryLater("No companyId, and its agency is not known yet: waiting for its LocationCreate.");
    }
    if (!(await agencyConnected(agency))) {
      throw new RetryLater("No token for its agency yet: waiting for the install's code exchange.");
    }
    await db.$transaction(async (tx) => {
      const id = await records.create(tx, { kind: "company", companyId: agency, origin: "webhook" });
      await records.connect(tx, id, agency, [{ id: locationId }]);
      await audit.within(tx, {
        action: "install",
        actor: byWebhook(event),
        companyId: agency,
        locationId,
        subjectId: id,
      });
    });
    return {
      status: "processed" as const,
      outcome: "Being connected: its token is minted from the agency's.",
    };
  }

  async function installCompany(event: WebhookEvent, companyId: string) {
    const install = await records.latestSince(paired(event), { companyId });
    if (install) {
      return {
        status: "processed" as const,
        outcome:
          "Handled by the install made in the browser, which connects the locations it covers: nothing more to do.",
      };
    }
    if (!(await agencyConnected(companyId))) {
      throw new RetryLater("No token for the agency yet: waiting for the install's code exchange.");
    }
    // No code exchange of its own (the browser never came back): list the installed locations.
    await db.$transaction(async (tx) => {
      const id = await records.create(tx, { kind: "company", companyId, origin: "webhook" });
      await records.discover(tx, id);
      await audit.within(tx, { action: "install", actor: byWebhook(event), companyId, subjectId: id });
    });
    return {
      status: "processed" as const,
      outcome: "Listing the agency's installed locations to connect the new ones.",
    };
  }

  async function install(event: WebhookEvent): Promise<HandlerResult> {
    const { companyId, locationId, companyName } = readPayload(installPayload, event.payload);
    if (await uninstalledSince(event, companyId, locationId)) {
      return { status: "ignored", outcome: "Superseded by a later UNINSTALL." };
    }
    if (companyId && companyName)
      await db.company.updateMany({ where: { id: companyId }, data: { name: companyName } });
    if (locationId) return installLocation(event, companyId, locationId);
    if (!companyId) return { status: "ignored", outcome: "INSTALL without companyId or locationId." };
    return installCompany(event, companyId);
  }

  async function uninstall(event: WebhookEvent): Promise<HandlerResult> {
    const { companyId, locationId } = readPayload(uninstallPayload, event.payload);
    // A reinstall after this delivery (a newer code exchange) wins over it.
    const olderInstall = { installedAt: { lte: event.receivedAt } };
    if (!locationId && !companyId) {
      return { status: "ignored", outcome: "UNINSTALL without companyId or locationId." };
    }
    const actor = byWebhook(event);
    // Each uninstall and its audit record commit together; a redelivery finds nothing left to record.
    const { locationIds, count } = await db.$transaction(async (tx) => {
      let locationIds: string[];
      if (locationId) {
        locationIds = [locationId];
      } else {
        const agency = await tx.company.updateManyAndReturn({
          where: { id: companyId!, ...olderInstall, status: { not: "uninstalled" } },
          data: { ...NO_TOKENS, status: "uninstalled", lastError: null },
          select: { id: true },
        });
        if (agency.length > 0) await audit.within(tx, { action: "uninstall", actor, companyId });
        const all = await tx.location.findMany({ where: { companyId }, select: { id: true } });
        locationIds = all.map((l) => l.id);
      }
      const gone = await tx.location.updateManyAndReturn({
        where: { id: { in: locationIds }, ...olderInstall, status: { not: "uninstalled" } },
        data: { ...NO_TOKENS, status: "uninstalled", lastError: null },
        select: { id: true, companyId: true },
      });
      await audit.allWithin(
        tx,
        gone.map((l) => ({ action: "uninstall", actor, companyId: l.companyId, locationId: l.id })),
      );
      return { locationIds, count: gone.length };
    });
    for (const id of locationIds) tokens.forget("location", id);
    if (companyId && !locationId) tokens.forget("company", companyId);
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
      outcome: `${companyId && !locationId ? "The agency and " : ""}${count} location(s) uninstalled; ${cancelled.count} pending bulk item(s) cancelled.`,
    };
  }

  return { INSTALL: install, UNINSTALL: uninstall };
}
