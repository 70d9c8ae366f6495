import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Actor, AuditLog } from "../audit/log";
import type { Db } from "../db/client";
import type { Prisma } from "../generated/prisma/client";
import { HighLevelError } from "../highlevel/errors";
import type { TokenResponse } from "../highlevel/oauth";
import type { LocationDirectory } from "../locations/directory";
import type { TokenStore } from "../tokens/store";
import type { InstallRecords } from "./records";

export interface InstallResult {
  /** The install's id: its progress page is `/oauth/installs/<id>`. */
  installId: string;
  kind: "location" | "company";
  companyId: string | null;
  locationId?: string;
}

/** The HighLevel user who approved the install (the exchange names them; not their name). */
const consenting = (response: TokenResponse): Actor => ({ kind: "user", id: response.userId ?? null });

/** How long the browser waits for a single sub-account's name before the page shows without it. */
const NAME_WAIT_MS = 1_500;

/**
 * Turns a completed code exchange into stored installations, and answers at once whatever the
 * agency's size. A Location token is stored as it is. A Company token is stored, and each of the
 * agency's locations recorded as `connecting` with a queued mint job (src/install/mint-worker.ts);
 * when the exchange does not name the locations, a queued job lists them first
 * (src/install/discovery.ts). Every write is an upsert on HighLevel's id, so a reinstall replaces
 * tokens, never duplicates.
 */
export class InstallService {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenStore,
    private readonly records: InstallRecords,
    private readonly directory: LocationDirectory,
    private readonly log: Logger,
    private readonly audit: AuditLog,
  ) {}

  async completeInstall(response: TokenResponse): Promise<InstallResult> {
    if (response.userType === "Company" || (!response.locationId && response.companyId)) {
      return this.installCompany(response);
    }
    return this.installLocation(response);
  }

  private async installLocation(response: TokenResponse): Promise<InstallResult> {
    const id = response.locationId;
    if (!id) throw new HighLevelError("HighLevel returned a Location token without a locationId");
    const companyId = response.companyId ?? null;
    const fields = {
      ...this.tokens.encryptedFields("location", id, response),
      companyId,
      userId: response.userId ?? null,
      status: "active" as const,
      lastError: null,
      installedAt: new Date(),
    };
    const installId = await this.db.$transaction(async (tx) => {
      await tx.location.upsert({
        where: { id },
        create: { id, source: "direct", ...fields },
        update: { source: "direct", ...fields },
      });
      const installId = await this.records.create(tx, { kind: "location", companyId, locationId: id });
      await tx.installLocation.create({ data: { installId, locationId: id } });
      await this.audit.within(tx, {
        action: "install",
        actor: consenting(response),
        companyId,
        locationId: id,
        subjectId: installId,
      });
      // Durable, should the read below not finish; the job skips a location read since.
      await this.records.readDetails(tx, [id]);
      return installId;
    });
    this.log.info({ locationId: id, companyId }, "location installed");
    await this.readNameBriefly(id);
    return { installId, kind: "location", companyId, locationId: id };
  }

  /** The result page names the sub-account: one read, if HighLevel answers within the wait. */
  private async readNameBriefly(locationId: string): Promise<void> {
    const reading = this.directory.refresh(locationId).then(
      () => true,
      (err: unknown) => {
        this.log.info({ locationId, reason: (err as Error).message }, "location details not read during install");
        return false;
      },
    );
    await Promise.race([reading, sleep(NAME_WAIT_MS)]);
  }

  private async installCompany(response: TokenResponse): Promise<InstallResult> {
    const companyId = response.companyId;
    if (!companyId) throw new HighLevelError("HighLevel returned a Company token without a companyId");
    const fields = {
      ...this.tokens.encryptedFields("company", companyId, response),
      userId: response.userId ?? null,
      installToFutureLocations: response.installToFutureLocations ?? false,
      status: "active" as const,
      lastError: null,
      installedAt: new Date(),
    };
    // Which locations: the exchange's own list when it gives one, else a queued listing (DECISIONS #30).
    const approved = [...new Set(response.approvedLocations ?? [])];
    const installId = await this.db.$transaction(
      async (tx) => {
        const name = await nameFromInstallWebhook(tx, companyId);
        const named = name ? { ...fields, name } : fields;
        await tx.company.upsert({ where: { id: companyId }, create: { id: companyId, ...named }, update: named });
        const installId = await this.records.create(tx, { kind: "company", companyId });
        await this.audit.within(tx, {
          action: "install",
          actor: consenting(response),
          companyId,
          subjectId: installId,
        });
        if (approved.length > 0) {
          await this.records.connect(
            tx,
            installId,
            companyId,
            approved.map((id) => ({ id })),
          );
        } else {
          await this.records.discover(tx, installId);
        }
        return installId;
      },
      { timeout: 30_000 },
    );
    this.log.info({ companyId, installId, locations: approved.length || "to be listed" }, "company installed");
    return { installId, kind: "company", companyId };
  }
}

/**
 * The agency's name from an INSTALL delivery already received: HighLevel sends it as consent is
 * given, often before the browser comes back, and its handler waits for this exchange (retried
 * with a growing delay), so the console would show an unnamed agency meanwhile.
 */
async function nameFromInstallWebhook(tx: Prisma.TransactionClient, companyId: string): Promise<string | undefined> {
  const delivery = await tx.webhookEvent.findFirst({
    where: { type: "INSTALL", companyId },
    orderBy: { receivedAt: "desc" },
    select: { payload: true },
  });
  const name = (delivery?.payload as { companyName?: unknown } | undefined)?.companyName;
  return typeof name === "string" && name.trim() ? name : undefined;
}
