import type { Logger } from "pino";
import type { Db } from "../db/client";
import { HighLevelError } from "../highlevel/errors";
import { waitOutRateLimit } from "../highlevel/rate-limit";
import type { HighLevelOAuth, TokenResponse } from "../highlevel/oauth";
import type { TokenStore } from "../tokens/store";
import { mapLimit } from "../util/concurrency";

export interface InstalledLocationResult {
  id: string;
  name: string | null;
  status: "active" | "failed";
  error?: string;
}

export interface InstallResult {
  kind: "location" | "company";
  companyId: string | null;
  companyName?: string | null;
  locations: InstalledLocationResult[];
}

/** How many location tokens are minted at once for an agency install: fast, yet well under the rate limit. */
const MINT_CONCURRENCY = 5;

/**
 * Turns a completed code exchange into stored installations. A Location token is stored as
 * it is; a Company token is stored and a location token minted for each installed location.
 * Every write is an upsert on HighLevel's id, so a reinstall replaces tokens, never duplicates.
 */
export class InstallService {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenStore,
    private readonly oauth: HighLevelOAuth,
    private readonly log: Logger,
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
    const fields = {
      ...this.tokens.encryptedFields("location", id, response),
      companyId: response.companyId ?? null,
      userId: response.userId ?? null,
      status: "active" as const,
      lastError: null,
      installedAt: new Date(),
    };
    await this.db.location.upsert({
      where: { id },
      create: { id, source: "direct", ...fields },
      update: { source: "direct", ...fields },
    });
    this.log.info({ locationId: id, companyId: response.companyId }, "location installed");
    return {
      kind: "location",
      companyId: response.companyId ?? null,
      locations: [{ id, name: null, status: "active" }],
    };
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
    await this.db.company.upsert({ where: { id: companyId }, create: { id: companyId, ...fields }, update: fields });
    this.log.info({ companyId }, "company installed");

    const installed = await this.oauth.listInstalledLocations(response.access_token, companyId);
    const locations = await mapLimit(installed, MINT_CONCURRENCY, (location) =>
      this.connectAgencyLocation(response.access_token, companyId, location.id, location.name ?? null),
    );
    return { kind: "company", companyId, locations };
  }

  /** Mints and stores one location's token; a failure is recorded on that location only. */
  async connectAgencyLocation(
    companyAccessToken: string,
    companyId: string,
    locationId: string,
    name: string | null,
  ): Promise<InstalledLocationResult> {
    try {
      const minted = await waitOutRateLimit(() =>
        this.oauth.mintLocationToken(companyAccessToken, companyId, locationId),
      );
      const fields = {
        ...this.tokens.encryptedFields("location", locationId, minted),
        companyId,
        name,
        userId: minted.userId ?? null,
        status: "active" as const,
        lastError: null,
        installedAt: new Date(),
      };
      await this.db.location.upsert({
        where: { id: locationId },
        create: { id: locationId, source: "agency", ...fields },
        update: { source: "agency", ...fields },
      });
      return { id: locationId, name, status: "active" };
    } catch (err) {
      if (!(err instanceof HighLevelError)) throw err;
      const reason = `Could not get a location token: ${err.message}`;
      this.log.warn({ companyId, locationId, status: err.status, reason }, "location token mint failed");
      // A location the agency's sub-account installed directly keeps working on its own token.
      const existing = await this.db.location.findUnique({ where: { id: locationId } });
      if (existing?.source === "direct" && existing.status === "active") {
        return { id: locationId, name, status: "active" };
      }
      const fields = { companyId, name, status: "failed" as const, lastError: reason };
      await this.db.location.upsert({
        where: { id: locationId },
        create: { id: locationId, source: "agency", ...fields },
        update: { source: "agency", ...fields, accessTokenEnc: null, refreshTokenEnc: null, tokenExpiresAt: null },
      });
      return { id: locationId, name, status: "failed", error: reason };
    }
  }
}
