import type { SandboxCompany } from "./types";

/**
 * The default world: an agency with three sub-accounts and a second agency with one.
 * Ids are fixed 20-character strings shaped like HighLevel's, so demo links stay stable
 * across restarts.
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
          calendars: [
            { id: "CalDntlCln9aT4wX6pQ1", name: "Cleanings" },
            { id: "CalDntlCns2bY7uK3rM8", name: "Consultations" },
          ],
        },
        {
          id: "AcmePhys7Tn3XcV5bH6j",
          name: "Acme Physio – Riverside",
          timezone: "America/Chicago",
          address: "401 N Michigan Ave, Chicago, IL 60611, USA",
          calendars: [{ id: "CalPhysRhb5cR1nJ8wE2", name: "Rehab sessions" }],
        },
        {
          id: "AcmeHair2Gs6Wq9Ly4Fu",
          name: "Acme Hair Studio – Westside",
          timezone: "America/Los_Angeles",
          address: "8500 Sunset Blvd, West Hollywood, CA 90069, USA",
          calendars: [{ id: "CalHairCut3dV6mN9tB4", name: "Cuts & colour" }],
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
          calendars: [{ id: "CalYogaCls8eW2pL5kS7", name: "Classes" }],
        },
      ],
    },
  ];
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
