/**
 * Public types of the sandbox (a local stand-in for HighLevel). Kept apart from `state.ts`
 * and `index.ts` so every module can import them without import cycles.
 */

/** A staff member of a sub-account. The calendar API exposes only ids; names serve the demo's screens. */
export interface SandboxUser {
  id: string;
  name: string;
  email?: string;
}

export interface SandboxCalendar {
  id: string;
  name: string;
  /** Calendar group (CalendarEventDTO.groupId); most calendars are in none. */
  groupId?: string;
  /** User ids of the calendar's team members (GET /calendars/ shows them as TeamMember objects). */
  teamMembers?: string[];
}

export interface SandboxLocation {
  id: string;
  name: string;
  /** IANA zone (GET /locations/{id}). Every fixture location has one; "UTC" when left out. */
  timezone?: string;
  /** Shown by /oauth/installedLocations (the schema requires an address string). */
  address?: string;
  email?: string;
  /**
   * When set, block slots must name one of these calendars and GET /calendars/ lists them.
   * When absent any calendarId is accepted (convenient for tests).
   */
  calendars?: SandboxCalendar[];
  users?: SandboxUser[];
  /** Make /oauth/locationToken fail for this location with exactly this answer. */
  mintError?: { status: number; body: unknown };
}

export interface SandboxCompany {
  id: string;
  name: string;
  locations: SandboxLocation[];
}

/** calendars.json's appointmentStatus enum (CalendarEventDTO). */
export type AppointmentStatus = "new" | "confirmed" | "cancelled" | "showed" | "noshow" | "invalid";

/** A customer's appointment: the fields of CalendarEventDTO that the sandbox keeps. */
export interface Appointment {
  id: string;
  calendarId: string;
  locationId: string;
  contactId: string;
  /** "" when the calendar is in no group (the DTO requires the field). */
  groupId: string;
  appointmentStatus: AppointmentStatus;
  assignedUserId: string;
  users: string[];
  title: string;
  /** ISO-8601 with the location's offset, as HighLevel shows them. */
  startTime: string;
  endTime: string;
  dateAdded: string;
  dateUpdated: string;
}

/** What addAppointment() needs; everything else gets a sensible default. */
export type NewAppointment = Pick<Appointment, "locationId" | "calendarId" | "startTime" | "endTime"> &
  Partial<Omit<Appointment, "locationId" | "calendarId" | "startTime" | "endTime" | "dateAdded" | "dateUpdated">>;

export type AppointmentChanges = Partial<
  Pick<Appointment, "title" | "startTime" | "endTime" | "appointmentStatus" | "assignedUserId" | "calendarId" | "users">
>;

export interface SandboxRateLimitOptions {
  /** Requests per interval per location/company (HighLevel: 100). */
  burst?: number;
  /** HighLevel: 10 000 ms. */
  intervalMs?: number;
  /** HighLevel: 200 000 per day. */
  daily?: number;
  /**
   * Default true. false: 429 answers carry only the X-RateLimit-* headers, which is all HighLevel
   * documents, so the app has to work out the wait itself.
   */
  retryAfter?: boolean;
}

/**
 * How the token endpoint refuses a grant: "highlevel" `{statusCode, message}` (what HighLevel
 * answers today) or "rfc6749" `{error, error_description}` (RFC 6749 section 5.2).
 */
export type OAuthErrorStyle = "highlevel" | "rfc6749";

export interface SandboxOptions {
  /** Shown on the consent page. Default "Block Slots for HighLevel". */
  appName?: string;
  /** Default "sandbox-app-1-client"; the appId is the part before the first "-". */
  clientId?: string;
  /** Default "sandbox-secret". */
  clientSecret?: string;
  /** Default 86399, as HighLevel. Tests shorten it. */
  accessTokenTtlSeconds?: number;
  /** Default: two demo agencies (see fixtures.ts). Copied: the sandbox never changes the caller's objects. */
  companies?: SandboxCompany[];
  /**
   * Fill every calendar that has no upcoming appointment with a few, in the location's business
   * hours over the next two weeks. Default: true for the default world, false when `companies` is given.
   */
  upcomingAppointments?: boolean;
  /** Default "highlevel". Can be changed later through `state.oauthErrorStyle`. */
  oauthErrorStyle?: OAuthErrorStyle;
  /**
   * Where the sandbox delivers HighLevel's webhooks (INSTALL, UNINSTALL, LocationUpdate,
   * Appointment*), signed with its own Ed25519 key. Unset (the default): nothing is sent.
   */
  webhookUrl?: string;
  /** Waits before each retry of a webhook answered 429 (HighLevel: 6 retries ~10 min apart). */
  webhookRetryDelaysMs?: number[];
  /** Artificial latency on API routes (not on the consent page or /_sandbox). */
  latencyMs?: number;
  /**
   * Default true: an agency's token answer lists `approvedLocations`. false: it does not (HighLevel
   * does not always say which locations were picked), so the app has to list /oauth/installedLocations.
   */
  approvedLocations?: boolean;
  /**
   * The largest page /oauth/installedLocations answers, whatever `limit` asks (HighLevel documents
   * no largest page; an app must not take a short page for the last). Default: no cap.
   */
  installedLocationsPageCap?: number;
  /** Default true. HighLevel: newer locationToken answers carry a refresh_token, older ones do not. */
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
  /** false when the request broke the OpenAPI files or a documented HighLevel rule (the app's fault). */
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

/**
 * A sub-account install, or an agency (bulk) install on all of its sub-accounts or on the
 * `locationIds` chosen on the consent page.
 */
export type InstallTarget = { locationId: string } | { companyId: string; locationIds?: string[] };

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
