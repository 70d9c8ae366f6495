import { IANAZone } from "luxon";
import type { SandboxCalendar, SandboxCompany, SandboxLocation } from "./types";

export interface FoundLocation {
  company: SandboxCompany;
  location: SandboxLocation;
}

/** What can be changed on a sub-account (the `/_sandbox/locations/:id` control route, tests). */
export interface LocationChanges {
  name?: string;
  timezone?: string;
}

/**
 * The agencies and sub-accounts HighLevel knows. A private copy of the fixtures (tests share
 * fixture constants between sandboxes, and locations can be renamed), indexed by id because an
 * agency can hold thousands of sub-accounts and every mint looks one up.
 */
export class World {
  readonly companies: SandboxCompany[];
  private readonly byLocation = new Map<string, FoundLocation>();
  private readonly byCompany = new Map<string, SandboxCompany>();

  constructor(companies: SandboxCompany[]) {
    this.companies = structuredClone(companies);
    for (const company of this.companies) {
      this.byCompany.set(company.id, company);
      for (const location of company.locations) this.byLocation.set(location.id, { company, location });
    }
  }

  findCompany(companyId: string): SandboxCompany | undefined {
    return this.byCompany.get(companyId);
  }

  findLocation(locationId: string): FoundLocation | undefined {
    return this.byLocation.get(locationId);
  }

  /** The zone a location's calendar works in; "UTC" for test fixtures that name none. */
  timezoneOf(location: SandboxLocation): string {
    return location.timezone ?? "UTC";
  }

  findCalendar(locationId: string, calendarId: string): SandboxCalendar | undefined {
    return this.findLocation(locationId)?.location.calendars?.find((c) => c.id === calendarId);
  }

  /** A new sub-account of an agency. Throws with a message meant for the caller. */
  addLocation(companyId: string, location: SandboxLocation): FoundLocation {
    const company = this.findCompany(companyId);
    if (!company) throw new Error(`Unknown sandbox company ${companyId}`);
    if (typeof location?.id !== "string" || location.id === "") throw new Error("id is required");
    if (typeof location.name !== "string" || location.name.trim() === "") throw new Error("name is required");
    if (this.byLocation.has(location.id)) throw new Error(`A location ${location.id} exists already`);
    if (location.timezone !== undefined && !IANAZone.isValidZone(location.timezone)) {
      throw new Error(`timezone ${String(location.timezone)} is not an IANA time zone`);
    }
    const found = { company, location: structuredClone(location) };
    company.locations.push(found.location);
    this.byLocation.set(location.id, found);
    return found;
  }

  /** Throws with a message meant for the caller (the control route answers 400 with it). */
  updateLocation(locationId: string, changes: LocationChanges): FoundLocation {
    const found = this.findLocation(locationId);
    if (!found) throw new Error(`Unknown sandbox location ${locationId}`);
    if (changes.name !== undefined && (typeof changes.name !== "string" || changes.name.trim() === "")) {
      throw new Error("name must be a non-empty string");
    }
    if (changes.timezone !== undefined && !IANAZone.isValidZone(changes.timezone)) {
      throw new Error(`timezone ${String(changes.timezone)} is not an IANA time zone`);
    }
    if (changes.name !== undefined) found.location.name = changes.name;
    if (changes.timezone !== undefined) found.location.timezone = changes.timezone;
    return found;
  }
}
