import { DEFAULT_SCOPES, defaultCompanies } from "./fixtures";
import { newId, newSecret } from "./ids";
import type {
  AccessTokenRecord,
  AuthorizationCode,
  InstallTarget,
  OAuthErrorStyle,
  RefreshGrantRecord,
  RefreshTokenRecord,
  SandboxCompany,
  SandboxOptions,
  UserType,
} from "./types";
import { installEvent, uninstallEvent } from "./webhook-events";
import type { WebhookPayload } from "./webhooks";
import { World, type FoundLocation } from "./world";

const CODE_TTL_MS = 10 * 60_000;
const REFRESH_TTL_MS = 365 * 86_400_000;

/** What a token is issued for: the token's owner and the scopes the user consented to. */
export interface Grant {
  userType: UserType;
  companyId: string;
  locationId?: string;
  scopes: string[];
}

/** Tokens belong to a location when they carry one, otherwise to the company. */
export function ownerOf(record: { companyId: string; locationId?: string }): string {
  return record.locationId ?? record.companyId;
}

/**
 * HighLevel's marketplace side of the state: the app, the agencies it can be installed in, and
 * the installs, codes and tokens it issued. SandboxState (state.ts) adds calendars, webhooks and
 * persistence; the split only keeps each file readable.
 */
export abstract class OAuthState {
  readonly appName: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The part of the client id before the first "-" (docs/highlevel.md, OAuth). */
  readonly appId: string;
  readonly accessTokenTtlSeconds: number;
  readonly locationTokensHaveRefreshToken: boolean;
  readonly approvedLocations: boolean;
  readonly installedLocationsPageCap: number;
  /** How the token endpoint words its refusals; read on every request. */
  oauthErrorStyle: OAuthErrorStyle;
  readonly world: World;

  readonly codes = new Map<string, AuthorizationCode>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly refreshGrants: RefreshGrantRecord[] = [];
  /** locationId → when the app was installed there. */
  readonly installs = new Map<string, Date>();
  /** companyId → agency-level (bulk) install settings. */
  readonly companyInstalls = new Map<string, { installToFutureLocations: boolean }>();
  readonly inactiveLocations = new Set<string>();
  /** locationId → tokens issued for it by /oauth/locationToken. */
  protected readonly mints = new Map<string, number>();
  protected readonly userIds = new Map<string, string>();

  constructor(options: SandboxOptions) {
    this.appName = options.appName ?? "Block Slots for HighLevel";
    this.clientId = options.clientId ?? "sandbox-app-1-client";
    this.clientSecret = options.clientSecret ?? "sandbox-secret";
    this.appId = this.clientId.split("-")[0] ?? this.clientId;
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 86399;
    this.locationTokensHaveRefreshToken = options.locationTokensHaveRefreshToken ?? true;
    this.approvedLocations = options.approvedLocations ?? true;
    this.installedLocationsPageCap = options.installedLocationsPageCap ?? Infinity;
    this.oauthErrorStyle = options.oauthErrorStyle ?? "highlevel";
    this.world = new World(options.companies ?? defaultCompanies());
  }

  /** Something HighLevel would remember changed: save soon. */
  abstract changed(): void;

  /** Sends a webhook when a webhookUrl is set; never throws. */
  protected abstract announce(payload: WebhookPayload): void;

  get companies(): SandboxCompany[] {
    return this.world.companies;
  }

  findCompany(companyId: string): SandboxCompany | undefined {
    return this.world.findCompany(companyId);
  }

  findLocation(locationId: string): FoundLocation | undefined {
    return this.world.findLocation(locationId);
  }

  /** The user who performed installs for this agency (fixed per agency). */
  userIdFor(companyId: string): string {
    let userId = this.userIds.get(companyId);
    if (!userId) {
      userId = newId();
      this.userIds.set(companyId, userId);
      this.changed();
    }
    return userId;
  }

  installedLocationIds(companyId: string): string[] {
    const company = this.findCompany(companyId);
    return company ? company.locations.filter((l) => this.installs.has(l.id)).map((l) => l.id) : [];
  }

  /**
   * What the consent page does: installs the app (on one location, or on all or some locations
   * of an agency), sends INSTALL at once (it can beat the app's code exchange, as HighLevel's
   * can) and returns a single-use authorization code valid for 10 minutes.
   */
  issueCode(target: InstallTarget, options: { scopes?: string[]; redirectUri?: string } = {}): string {
    const now = new Date();
    const company = this.install(target, now);
    const code = newSecret("sandbox-code");
    this.codes.set(code, {
      code,
      target,
      scopes: options.scopes ?? [...DEFAULT_SCOPES],
      redirectUri: options.redirectUri,
      expiresAt: new Date(now.getTime() + CODE_TTL_MS),
      used: false,
    });
    this.changed();
    this.announce(installEvent(this, company, target));
    return code;
  }

  private install(target: InstallTarget, now: Date): SandboxCompany {
    if ("locationId" in target) {
      const found = this.findLocation(target.locationId);
      if (!found) throw new Error(`Unknown sandbox location ${target.locationId}`);
      if (!this.installs.has(target.locationId)) this.installs.set(target.locationId, now);
      return found.company;
    }
    const company = this.findCompany(target.companyId);
    if (!company) throw new Error(`Unknown sandbox company ${target.companyId}`);
    const chosen = target.locationIds && new Set(target.locationIds);
    const foreign = target.locationIds?.filter((id) => this.findLocation(id)?.company !== company) ?? [];
    if (foreign.length > 0) throw new Error(`Not sub-accounts of ${company.id}: ${foreign.join(", ")}`);
    for (const location of company.locations) {
      if (!this.installs.has(location.id) && (!chosen || chosen.has(location.id))) this.installs.set(location.id, now);
    }
    this.companyInstalls.set(company.id, { installToFutureLocations: !chosen });
    return company;
  }

  /**
   * The app is removed from a sub-account or a whole agency (what a user does in HighLevel):
   * its tokens stop working and UNINSTALL is sent.
   */
  uninstall(target: { locationId: string } | { companyId: string }): void {
    const owners = new Set<string>();
    if ("locationId" in target) {
      if (!this.findLocation(target.locationId)) throw new Error(`Unknown sandbox location ${target.locationId}`);
      owners.add(target.locationId);
    } else {
      const company = this.findCompany(target.companyId);
      if (!company) throw new Error(`Unknown sandbox company ${target.companyId}`);
      this.companyInstalls.delete(company.id);
      owners.add(company.id);
      for (const location of company.locations) owners.add(location.id);
    }
    for (const id of owners) this.installs.delete(id);
    for (const record of this.accessTokens.values()) if (owners.has(ownerOf(record))) record.revoked = true;
    for (const record of this.refreshTokens.values()) if (owners.has(ownerOf(record))) record.dead ??= "revoked";
    this.changed();
    this.announce(uninstallEvent(this, target));
  }

  issueAccessToken(grant: Grant): AccessTokenRecord {
    const record: AccessTokenRecord = {
      ...grant,
      token: newSecret("sandbox-at"),
      userId: this.userIdFor(grant.companyId),
      expiresAt: new Date(Date.now() + this.accessTokenTtlSeconds * 1000),
    };
    this.accessTokens.set(record.token, record);
    this.changed();
    return record;
  }

  issueRefreshToken(grant: Grant): RefreshTokenRecord {
    const record: RefreshTokenRecord = {
      ...grant,
      token: newSecret("sandbox-rt"),
      userId: this.userIdFor(grant.companyId),
      expiresAt: new Date(Date.now() + REFRESH_TTL_MS),
    };
    this.refreshTokens.set(record.token, record);
    this.changed();
    return record;
  }

  /** Called by /oauth/locationToken for every token it issues. */
  countMint(locationId: string): void {
    this.mints.set(locationId, (this.mints.get(locationId) ?? 0) + 1);
  }

  /** Location tokens issued by /oauth/locationToken, for one location or in all. */
  mintCount(locationId?: string): number {
    if (locationId !== undefined) return this.mints.get(locationId) ?? 0;
    let total = 0;
    for (const n of this.mints.values()) total += n;
    return total;
  }

  /** refresh_token grants received (failed ones included), optionally for one location/company. */
  refreshCount(refreshTokenOwnerId?: string): number {
    return this.refreshGrants.filter((g) => refreshTokenOwnerId === undefined || g.ownerId === refreshTokenOwnerId)
      .length;
  }

  /** HighLevel dropped this access token early: the next use answers 401. */
  expireAccessToken(token: string): void {
    const record = this.accessTokens.get(token);
    if (record) record.revoked = true;
    this.changed();
  }

  /** expireAccessToken() for every access token of a location or company. */
  expireAccessTokensFor(ownerId: string): void {
    for (const record of this.accessTokens.values()) if (ownerOf(record) === ownerId) record.revoked = true;
    this.changed();
  }

  /** Every refresh token of this location/company dies: the next refresh answers invalid grant. */
  revokeRefreshTokensFor(ownerId: string): void {
    for (const record of this.refreshTokens.values()) if (ownerOf(record) === ownerId) record.dead ??= "revoked";
    this.changed();
  }

  /** While set, refreshing this location's token answers 400 "Location is not active". */
  setLocationInactive(locationId: string, inactive: boolean): void {
    if (inactive) this.inactiveLocations.add(locationId);
    else this.inactiveLocations.delete(locationId);
    this.changed();
  }
}
