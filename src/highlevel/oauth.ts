import { z } from "zod";
import { HighLevelResponseError } from "./errors";
import { send, type HighLevelHttp } from "./http";
import type { RateLimitPacer } from "./pacer";

export const OAUTH_VERSION = "2021-07-28";

/** `GetAccessCodeSuccessfulResponseDto`, lenient about fields the app does not need. */
const tokenResponse = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
  userType: z.enum(["Company", "Location"]).optional(),
  companyId: z.string().optional(),
  locationId: z.string().optional(),
  userId: z.string().optional(),
  planId: z.string().optional(),
  approvedLocations: z.array(z.string()).optional(),
  isBulkInstallation: z.boolean().optional(),
  installToFutureLocations: z.boolean().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponse>;

const installedLocations = z.looseObject({
  locations: z.array(z.looseObject({ _id: z.string(), name: z.string().optional() })),
  count: z.number().optional(),
  installToFutureLocations: z.boolean().optional(),
});
export interface InstalledLocation {
  id: string;
  name?: string;
}

export interface OAuthClientOptions {
  clientId: string;
  clientSecret: string;
}

function parse<T>(schema: z.ZodType<T>, body: unknown, operation: string): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new HighLevelResponseError(`${operation}: unexpected response from HighLevel`);
  return result.data;
}

/** HighLevel's OAuth endpoints (docs/highlevel.md, "Install", "Agency token"). */
export class HighLevelOAuth {
  constructor(
    private readonly http: HighLevelHttp,
    private readonly options: OAuthClientOptions,
    /** Calls made with an agency's token spend the agency's budget (owner: the company id). */
    private readonly pacer: RateLimitPacer,
  ) {}

  /** The marketplace `appId` is the part of the client id before the first `-`. */
  get appId(): string {
    return this.options.clientId.split("-")[0] ?? this.options.clientId;
  }

  private async token(fields: Record<string, string>, operation: string): Promise<TokenResponse> {
    const body = new URLSearchParams({
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      ...fields,
    });
    const data = await send<unknown>(this.http, operation, {
      method: "POST",
      url: "/oauth/token",
      data: body.toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    return parse(tokenResponse, data, operation);
  }

  /**
   * Install: code → tokens. `user_type=Location` asks for a sub-account token; HighLevel answers
   * with a Company token anyway for agency (bulk) installs, and the caller handles both.
   */
  exchangeCode(code: string, redirectUri: string): Promise<TokenResponse> {
    return this.token(
      { grant_type: "authorization_code", code, user_type: "Location", redirect_uri: redirectUri },
      "code exchange",
    );
  }

  /** Single use: the refresh token passed in is dead once HighLevel answers. */
  refresh(refreshToken: string, userType: "Company" | "Location"): Promise<TokenResponse> {
    return this.token(
      { grant_type: "refresh_token", refresh_token: refreshToken, user_type: userType },
      "token refresh",
    );
  }

  /**
   * A location token from the agency's Company token (`oauth.write`), paced under the agency's
   * limit. `beforeSend` runs once the pacer lets the call go and before anything is sent: a caller
   * that must not mint twice takes its claim there, not before a wait of unknown length.
   */
  async mintLocationToken(
    companyAccessToken: string,
    companyId: string,
    locationId: string,
    options: { beforeSend?: () => Promise<void> } = {},
  ): Promise<TokenResponse> {
    await this.pacer.acquire(companyId);
    await options.beforeSend?.();
    const data = await send<unknown>(
      this.http,
      "location token",
      {
        method: "POST",
        url: "/oauth/locationToken",
        data: new URLSearchParams({ companyId, locationId }).toString(),
        headers: {
          Authorization: `Bearer ${companyAccessToken}`,
          Version: OAUTH_VERSION,
          "Content-Type": "application/x-www-form-urlencoded",
        },
      },
      (headers, status) => void this.pacer.observe(companyId, headers, status),
    );
    return parse(tokenResponse, data, "location token");
  }

  /** Every location where the app is installed for this company, all pages. */
  async listInstalledLocations(companyAccessToken: string, companyId: string): Promise<InstalledLocation[]> {
    const pageSize = 100;
    const all: InstalledLocation[] = [];
    for (let skip = 0; ;) {
      await this.pacer.acquire(companyId);
      const data = await send<unknown>(
        this.http,
        "installed locations",
        {
          method: "GET",
          url: "/oauth/installedLocations",
          params: { companyId, appId: this.appId, isInstalled: true, skip, limit: pageSize },
          headers: { Authorization: `Bearer ${companyAccessToken}`, Version: OAUTH_VERSION },
        },
        (headers, status) => void this.pacer.observe(companyId, headers, status),
      );
      const page = parse(installedLocations, data, "installed locations");
      all.push(...page.locations.map((l) => ({ id: l._id, name: l.name })));
      skip += page.locations.length;
      // A short page is not the end: HighLevel documents no largest page, and one capped below the
      // `limit` asked for would end the list early. Only an empty page, or `count` reached, ends it.
      if (page.locations.length === 0 || all.length >= (page.count ?? Infinity)) return all;
    }
  }
}
