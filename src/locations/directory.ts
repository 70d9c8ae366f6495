import type { Logger } from "pino";
import type { Db } from "../db/client";
import type { HighLevelLocations, LocationDetails } from "../highlevel/locations";
import type { TokenService } from "../tokens/service";

/**
 * What the app knows of each sub-account beyond its tokens: the name people recognise it by and
 * its IANA time zone, read from HighLevel's location record and kept in `locations`.
 */
export class LocationDirectory {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly highlevel: HighLevelLocations,
    private readonly log: Logger,
  ) {}

  /** Reads the location from HighLevel with its own token and stores its name and time zone. */
  async refresh(locationId: string): Promise<LocationDetails> {
    const details = await this.tokens.withAccessToken(locationId, (token) => this.highlevel.get(token, locationId));
    await this.store(locationId, details);
    return details;
  }

  /**
   * The same, read with the agency's token (and budget): for a location that has no token of its
   * own, e.g. one whose mint HighLevel refused, so the page can still name it.
   */
  async refreshWithAgency(locationId: string, companyId: string): Promise<LocationDetails> {
    const details = await this.tokens.withCompanyToken(companyId, (token) =>
      this.highlevel.get(token, locationId, companyId),
    );
    await this.store(locationId, details);
    return details;
  }

  /** Stores details read elsewhere (e.g. with the agency's token while connecting the location). */
  async store(locationId: string, details: LocationDetails): Promise<void> {
    await this.db.location.updateMany({
      where: { id: locationId },
      data: {
        ...(details.name ? { name: details.name } : {}),
        ...(details.timezone ? { timeZone: details.timezone } : {}),
        detailsAt: new Date(),
      },
    });
    this.log.debug({ locationId, timeZone: details.timezone }, "location details stored");
  }

  /** The location's IANA zone: as stored, or read from HighLevel once. Undefined when HighLevel gives none. */
  async timeZoneOf(locationId: string): Promise<string | undefined> {
    const row = await this.db.location.findUnique({ where: { id: locationId }, select: { timeZone: true } });
    if (row?.timeZone) return row.timeZone;
    return (await this.refresh(locationId)).timezone;
  }
}
