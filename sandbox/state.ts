import { DEFAULT_SCOPES, defaultCompanies } from "./fixtures";
import { FaultRegistry, type FaultMatch, type FaultReply } from "./faults";
import { newId, newSecret } from "./ids";
import { readStateFile, StateFileWriter, type DurableState, type StateFileStatus } from "./persistence";
import { RateLimiter } from "./rate-limit";
import type {
  AccessTokenRecord,
  AuthorizationCode,
  BlockSlot,
  InstallTarget,
  RecordedRequest,
  RefreshGrantRecord,
  RefreshTokenRecord,
  SandboxCompany,
  SandboxLocation,
  SandboxOptions,
  UserType,
} from "./types";

const CODE_TTL_MS = 10 * 60_000;
const REFRESH_TTL_MS = 365 * 86_400_000;

/** What a token is issued for: the token's owner and the scopes the user consented to. */
export interface Grant {
  userType: UserType;
  companyId: string;
  locationId?: string;
  scopes: string[];
}

/** Everything the sandbox knows. Tests read and steer it in-process. */
export class SandboxState {
  readonly appName: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The part of the client id before the first "-" (FACTS.md). */
  readonly appId: string;
  readonly accessTokenTtlSeconds: number;
  /** Where `/_sandbox/app` frames the app's custom page, and its Shared Secret (set by the demo). */
  customPage: { appUrl: string; ssoKey: string } | undefined;
  /** Read on every request, so a benchmark can set it after its set-up. */
  latencyMs: number;
  readonly locationTokensHaveRefreshToken: boolean;
  readonly strictOpenApi: boolean;
  readonly companies: SandboxCompany[];

  readonly codes = new Map<string, AuthorizationCode>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly slots = new Map<string, BlockSlot>();
  readonly requests: RecordedRequest[] = [];
  readonly refreshGrants: RefreshGrantRecord[] = [];
  /** locationId → when the app was installed there. */
  readonly installs = new Map<string, Date>();
  /** companyId → agency-level (bulk) install settings. */
  readonly companyInstalls = new Map<string, { installToFutureLocations: boolean }>();
  readonly inactiveLocations = new Set<string>();
  readonly faults = new FaultRegistry();
  readonly rateLimiter: RateLimiter;
  private readonly userIds = new Map<string, string>();
  /** Set when options.stateFile is: whether that file was loaded, absent, or corrupt (ignored). */
  readonly stateFileStatus?: StateFileStatus;
  private readonly stateFile?: StateFileWriter;

  constructor(options: SandboxOptions = {}) {
    this.appName = options.appName ?? "Block Slots for HighLevel";
    this.clientId = options.clientId ?? "sandbox-app-1-client";
    this.clientSecret = options.clientSecret ?? "sandbox-secret";
    this.appId = this.clientId.split("-")[0] ?? this.clientId;
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 86399;
    this.latencyMs = options.latencyMs ?? 0;
    this.locationTokensHaveRefreshToken = options.locationTokensHaveRefreshToken ?? true;
    this.strictOpenApi = options.strictOpenApi ?? false;
    this.companies = options.companies ?? defaultCompanies();
    this.rateLimiter = new RateLimiter(options.rateLimit);
    if (options.stateFile) {
      const { status, state } = readStateFile(options.stateFile);
      this.stateFileStatus = status;
      if (state) this.restore(state);
      this.stateFile = new StateFileWriter(options.stateFile, () => this.durable());
    }
  }

  // ---- persistence (options.stateFile) -----------------------------------------------

  /**
   * Something HighLevel would remember changed: save soon. Routes also change records in place
   * (a code used, a slot edited), so the server calls this after every response too.
   */
  changed(): void {
    this.stateFile?.schedule();
  }

  /** Saves pending changes now; called when the sandbox closes. */
  closeStateFile(): void {
    this.stateFile?.close();
  }

  private durable(): DurableState {
    return {
      codes: [...this.codes.values()],
      accessTokens: [...this.accessTokens.values()],
      refreshTokens: [...this.refreshTokens.values()],
      slots: [...this.slots.values()],
      installs: this.installs,
      companyInstalls: this.companyInstalls,
      inactiveLocations: [...this.inactiveLocations],
      userIds: this.userIds,
    };
  }

  private restore(saved: DurableState): void {
    for (const code of saved.codes) this.codes.set(code.code, code);
    for (const token of saved.accessTokens) this.accessTokens.set(token.token, token);
    for (const token of saved.refreshTokens) this.refreshTokens.set(token.token, token);
    for (const slot of saved.slots) this.slots.set(slot.id, slot);
    for (const [id, at] of saved.installs) this.installs.set(id, at);
    for (const [id, install] of saved.companyInstalls) this.companyInstalls.set(id, install);
    for (const id of saved.inactiveLocations) this.inactiveLocations.add(id);
    for (const [companyId, userId] of saved.userIds) this.userIds.set(companyId, userId);
  }

  // ---- fixture lookups -------------------------------------------------------------

  findCompany(companyId: string): SandboxCompany | undefined {
    return this.companies.find((c) => c.id === companyId);
  }

  findLocation(locationId: string): { company: SandboxCompany; location: SandboxLocation } | undefined {
    for (const company of this.companies) {
      const location = company.locations.find((l) => l.id === locationId);
      if (location) return { company, location };
    }
    return undefined;
  }

  /** The (fixed) user who performed installs for this agency. */
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

  // ---- OAuth -----------------------------------------------------------------------

  /**
   * What the consent page does: installs the app (on one location, or on every location of
   * an agency) and returns a single-use authorization code valid for 10 minutes.
   */
  issueCode(target: InstallTarget, options: { scopes?: string[]; redirectUri?: string } = {}): string {
    const now = new Date();
    if ("locationId" in target) {
      if (!this.findLocation(target.locationId)) throw new Error(`Unknown sandbox location ${target.locationId}`);
      if (!this.installs.has(target.locationId)) this.installs.set(target.locationId, now);
    } else {
      const company = this.findCompany(target.companyId);
      if (!company) throw new Error(`Unknown sandbox company ${target.companyId}`);
      for (const location of company.locations)
        if (!this.installs.has(location.id)) this.installs.set(location.id, now);
      this.companyInstalls.set(company.id, { installToFutureLocations: true });
    }
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
    return code;
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

  // ---- helpers for tests -----------------------------------------------------------

  /** Recorded requests with this method whose path starts with `pathPrefix`. */
  count(method: string, pathPrefix: string): number {
    const m = method.toUpperCase();
    return this.requests.filter((r) => r.method === m && r.path.startsWith(pathPrefix)).length;
  }

  /** refresh_token grants received (failed ones included), optionally for one location/company. */
  refreshCount(refreshTokenOwnerId?: string): number {
    return this.refreshGrants.filter((g) => refreshTokenOwnerId === undefined || g.ownerId === refreshTokenOwnerId)
      .length;
  }

  failNext(match: FaultMatch, reply: FaultReply, times = 1): void {
    this.faults.add(match, reply, times);
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

  blockSlots(locationId?: string): BlockSlot[] {
    return [...this.slots.values()].filter((s) => locationId === undefined || s.locationId === locationId);
  }

  invalidRequests(): RecordedRequest[] {
    return this.requests.filter((r) => !r.valid);
  }

  resetRequests(): void {
    this.requests.length = 0;
    this.refreshGrants.length = 0;
  }
}

/** Tokens belong to a location when they carry one, otherwise to the company. */
export function ownerOf(record: { companyId: string; locationId?: string }): string {
  return record.locationId ?? record.companyId;
}
