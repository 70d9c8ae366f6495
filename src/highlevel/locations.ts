import { IANAZone } from "luxon";
import { z } from "zod";
import { HighLevelResponseError } from "./errors";
import { send, type HighLevelHttp } from "./http";
import type { RateLimitPacer } from "./pacer";

export const LOCATIONS_VERSION = "2021-07-28";

/** `GetLocationByIdSchema`, only what the app uses: lenient about the rest. */
const locationResponse = z.looseObject({
  location: z.looseObject({
    id: z.string(),
    companyId: z.string().optional(),
    name: z.string().optional(),
    // Only a zone the app can place times in; anything else is as if HighLevel gave none, so a plan
    // asks for one by name instead of leaving the location's blocks out.
    timezone: z
      .string()
      .optional()
      .transform((zone) => {
        const trimmed = zone?.trim();
        return trimmed && IANAZone.isValidZone(trimmed) ? trimmed : undefined;
      }),
  }),
});

export interface LocationDetails {
  id: string;
  companyId?: string;
  name?: string;
  /** IANA zone, e.g. "America/Chicago". */
  timezone?: string;
}

/** `GET /locations/{locationId}` (docs/highlevel.md, "Locations"): a location's name and time zone. */
export class HighLevelLocations {
  constructor(
    private readonly http: HighLevelHttp,
    private readonly pacer: RateLimitPacer,
  ) {}

  /** With the location's own token or its agency's (`owner`: whose budget the call spends). */
  async get(accessToken: string, locationId: string, owner = locationId): Promise<LocationDetails> {
    await this.pacer.acquire(owner);
    const body = await send<unknown>(
      this.http,
      "get location",
      {
        method: "GET",
        url: `/locations/${encodeURIComponent(locationId)}`,
        headers: { Authorization: `Bearer ${accessToken}`, Version: LOCATIONS_VERSION },
      },
      (headers, status) => void this.pacer.observe(owner, headers, status),
    );
    const parsed = locationResponse.safeParse(body);
    if (!parsed.success) throw new HighLevelResponseError("get location: unexpected response from HighLevel");
    return parsed.data.location;
  }
}
