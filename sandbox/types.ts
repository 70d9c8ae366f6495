/**
 * Public types of the sandbox (a local stand-in for HighLevel). Kept apart from `state.ts`
 * and `index.ts` so every module can import them without import cycles.
 */

export interface SandboxCalendar {
  id: string;
  name: string;
}

export interface SandboxLocation {
  id: string;
  name: string;
  timezone?: string;
  /** Shown by /oauth/installedLocations (the schema requires an address string). */
  address?: string;
  /**
   * When set, block slots must name one of these calendars and GET /calendars/ lists them.
   * When absent any calendarId is accepted (convenient for tests).
   */
  calendars?: SandboxCalendar[];
  /** Make /oauth/locationToken fail for this location with exactly this answer. */
  mintError?: { status: number; body: unknown };
}

export interface SandboxCompany {
  id: string;
  name: string;
  locations: SandboxLocation[];
}

export interface SandboxRateLimitOptions {
  /** Requests per interval per location/company (HighLevel: 100). */
  burst?: number;
  /** HighLevel: 10 000 ms. */
  intervalMs?: number;
  /** HighLevel: 200 000 per day. */
  daily?: number;
}

export interface SandboxOptions {
  /** Shown on the consent page. Default "Block Slots for HighLevel". */
  appName?: string;
  /** Default "sandbox-app-1-client"; the appId is the part before the first "-". */
  clientId?: string;
  /** Default "sandbox-secret". */
  clientSecret?: string;
  /** Default 86399, as HighLevel. Tests shorten it. */
  accessTokenTtlSeconds?: number;
  /** Default: two demo agencies (see fixtures.ts). */
  companies?: SandboxCompany[];
  /** Artificial latency on API routes (not on the consent page or /_sandbox). */
  latencyMs?: number;
  /** Default true. FACTS: newer locationToken answers carry a refresh_token, older ones do not. */
  locationTokensHaveRefreshToken?: boolean;
  /** Override HighLevel's rate limits (tests use a small burst to reach 429 quickly). */
  rateLimit?: SandboxRateLimitOptions;
  /**
   * true: apply the OpenAPI files literally, without the documented corrections in
   * openapi-overrides.ts (e.g. block slots then require calendarId even with assignedUserId).
   */
  strictOpenApi?: boolean;
  /**
   * JSON file that keeps what HighLevel would remember (codes, tokens, block slots, installs)
   * across restarts: loaded at start when present, saved shortly after each change and on
   * close(). A missing or corrupt file starts a fresh sandbox (see state.stateFileStatus).
   */
  stateFile?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  operationId?: string;
  /** false when the request broke the OpenAPI files or a FACTS.md rule (the app's fault). */
  valid: boolean;
  /** Why it is invalid. Empty for valid requests. */
  errors: string[];
  /** Why a well-formed request was still refused or cut (expired token, fault, rate limit…). */
  note?: string;
  status?: number;
  at: Date;
}

export type UserType = "Company" | "Location";

export interface AccessTokenRecord {
  token: string;
  userType: UserType;
  companyId: string;
  locationId?: string;
  userId: string;
  scopes: string[];
  expiresAt: Date;
  /** Set by expireAccessToken(): HighLevel dropped it early, the app could not know. */
  revoked?: boolean;
}

export interface RefreshTokenRecord {
  token: string;
  userType: UserType;
  companyId: string;
  locationId?: string;
  userId: string;
  scopes: string[];
  expiresAt: Date;
  /**
   * Dead tokens are kept (not deleted) so a reuse still counts against its owner in
   * refreshCount(): that is how tests see a refresh storm.
   */
  dead?: "used" | "revoked";
}

export type InstallTarget = { locationId: string } | { companyId: string };

export interface AuthorizationCode {
  code: string;
  target: InstallTarget;
  scopes: string[];
  redirectUri?: string;
  expiresAt: Date;
  used: boolean;
}

export interface BlockSlot {
  id: string;
  locationId: string;
  title: string;
  /** As sent (ISO-8601 with offset), echoed back like HighLevel does. */
  startTime: string;
  endTime: string;
  calendarId?: string;
  assignedUserId?: string;
  dateAdded: string;
  dateUpdated: string;
}

export interface RefreshGrantRecord {
  /** locationId for Location tokens, companyId for Company tokens; undefined if the token was unknown. */
  ownerId?: string;
  ok: boolean;
  at: Date;
}
