import type { SandboxCompany } from "./types";

/**
 * The default world: an agency with three sub-accounts and a second agency with one, each with
 * staff and calendars. Ids are fixed 20-character strings shaped like HighLevel's, so demo links
 * stay stable across restarts. Browser tests rely on the New York and London sub-accounts.
 */
export function defaultCompanies(): SandboxCompany[] {
  return [
    {
      id: "AcmeAg3ncyQ7xLp2Vd9K",
      name: "Acme Agency",
      locations: [
        {
          id: "AcmeDntl4Rw8ZkP1mQ2s",
          name: "Acme Dental – Downtown",
          timezone: "America/New_York",
          address: "120 Broadway, New York, NY 10271, USA",
          email: "downtown@acme-dental.example",
          users: [
            { id: "UsrDntlPat1kR7wQ2zX5", name: "Dr. Priya Patel", email: "priya@acme-dental.example" },
            { id: "UsrDntlBek4mT9vL3nC8", name: "Tom Becker", email: "tom@acme-dental.example" },
          ],
          calendars: [
            { id: "CalDntlCln9aT4wX6pQ1", name: "Cleanings", teamMembers: ["UsrDntlBek4mT9vL3nC8"] },
            {
              id: "CalDntlCns2bY7uK3rM8",
              name: "Consultations",
              teamMembers: ["UsrDntlPat1kR7wQ2zX5", "UsrDntlBek4mT9vL3nC8"],
            },
          ],
        },
        {
          id: "AcmePhys7Tn3XcV5bH6j",
          name: "Acme Physio – Riverside",
          timezone: "America/Chicago",
          address: "401 N Michigan Ave, Chicago, IL 60611, USA",
          users: [{ id: "UsrPhysOko2sD5gH8jK1", name: "Ada Okonkwo", email: "ada@acme-physio.example" }],
          calendars: [{ id: "CalPhysRhb5cR1nJ8wE2", name: "Rehab sessions", teamMembers: ["UsrPhysOko2sD5gH8jK1"] }],
        },
        {
          id: "AcmeHair2Gs6Wq9Ly4Fu",
          name: "Acme Hair Studio – Westside",
          timezone: "America/Los_Angeles",
          address: "8500 Sunset Blvd, West Hollywood, CA 90069, USA",
          users: [
            { id: "UsrHairRiv6fG2hJ4kL9", name: "Marco Rivera" },
            { id: "UsrHairNgu3pQ8rS1tV6", name: "Linh Nguyen" },
          ],
          calendars: [
            {
              id: "CalHairCut3dV6mN9tB4",
              name: "Cuts & colour",
              teamMembers: ["UsrHairRiv6fG2hJ4kL9", "UsrHairNgu3pQ8rS1tV6"],
            },
          ],
        },
      ],
    },
    {
      id: "NrthWndMkt5Hy8Ct1Rz3",
      name: "Northwind Marketing",
      locations: [
        {
          id: "NrthYoga6Kp2Bv7Nx5Qe",
          name: "Northwind Yoga Loft",
          timezone: "Europe/London",
          address: "12 Shoreditch High St, London E1 6PG, UK",
          users: [{ id: "UsrYogaHal8wE3rT5yU2", name: "Grace Hall", email: "grace@northwind-yoga.example" }],
          calendars: [{ id: "CalYogaCls8eW2pL5kS7", name: "Classes", teamMembers: ["UsrYogaHal8wE3rT5yU2"] }],
        },
      ],
    },
  ];
}

/** Real zones on both sides of the date line and of the equator, DST and not. */
export const AGENCY_TIME_ZONES = [
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Phoenix",
  "America/Los_Angeles",
  "Europe/London",
  "Europe/Berlin",
  "Asia/Kolkata",
  "Australia/Sydney",
];

/**
 * An agency of `count` sub-accounts ("Clinic 1" … "Clinic N"), zones rotating over `timeZones`,
 * each with one staff member and one calendar. Ids are derived from the agency id and the
 * number, so a test can name any of them: `${id}-loc-17`, `${id}-cal-17`, `${id}-user-17`.
 */
export function buildAgency(
  count: number,
  { id = "agency-large", name = `Agency of ${count}`, timeZones = AGENCY_TIME_ZONES } = {},
): SandboxCompany {
  return {
    id,
    name,
    locations: Array.from({ length: count }, (_, i) => {
      const n = i + 1;
      const userId = `${id}-user-${n}`;
      return {
        id: `${id}-loc-${n}`,
        name: `Clinic ${n}`,
        timezone: timeZones[i % timeZones.length],
        address: `${n} Main Street`,
        users: [{ id: userId, name: `Staff of Clinic ${n}` }],
        calendars: [{ id: `${id}-cal-${n}`, name: `Clinic ${n} appointments`, teamMembers: [userId] }],
      };
    }),
  };
}

/** Scopes granted when a test calls issueCode() without naming any. */
export const DEFAULT_SCOPES = [
  "oauth.readonly",
  "oauth.write",
  "calendars.readonly",
  "calendars/events.readonly",
  "calendars/events.write",
  "locations.readonly",
];
